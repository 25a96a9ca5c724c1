"""NumPy's standard normals, bit for bit, drawn inside compiled kernels.

``Generator.standard_normal`` (NumPy's 256-layer ziggurat on PCG64) costs
12-14 ns a number; drawn inside the oscillator kernels the same algorithm
costs about 4.5 ns. :func:`pcg64_normals` runs PCG64 (a 128-bit LCG with the
XSL-RR output, as four interleaved chains that jump four steps at a time) and
the ziggurat on NumPy's tables, so that the numbers are those of
``rng.standard_normal(shape)`` in the same order and the generator ends in the
same state (tested against NumPy). Any other bit generator, or a numba
without those tables, uses ``Generator.standard_normal`` itself
(:func:`standard_normal`).
"""

from __future__ import annotations

import math

import numpy as np

from harmonix.simulate._compiled import HAVE_NUMBA, njit

__all__ = ["fast_normals", "pcg64_normals", "pcg_store", "pcg_words", "standard_normal"]

#
# Generator.standard_normal (NumPy's 256-layer ziggurat on PCG64) costs 12-14 ns
# a number on the benchmark machine (x86-64), which for the 152 numbers of a
# 76-node Stuart-Landau step is as much as the whole compiled step. For the
# PCG64 bit generator that ``default_rng`` makes, the same algorithm runs
# compiled inside the kernels, at ~4.5 ns a number: PCG64 (a 128-bit LCG with
# the XSL-RR output) as four interleaved LCG chains that jump four steps at a
# time (the same sequence of raw outputs), and the ziggurat with a branch-free
# sign, on NumPy's tables (as copied into numba's generator support). The
# numbers are those of ``rng.standard_normal((steps, width))``, bit for bit and
# in the same order, and the generator ends in the same state (tested against
# NumPy). Any other bit generator, or a numba without those tables, uses
# ``Generator.standard_normal`` itself, in blocks.

_PCG64_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645
_MASK64 = (1 << 64) - 1
_PCG_BUFFER = 256  # raw outputs per refill (a multiple of 4)

try:
    from llvmlite import ir as _ir
    from numba import types as _nbtypes
    from numba.extending import intrinsic as _intrinsic
    from numba.np.random._constants import fi_double as _ZIG_F
    from numba.np.random._constants import ki_double as _ZIG_K_U64
    from numba.np.random._constants import wi_double as _ZIG_W
    from numba.np.random._constants import ziggurat_nor_inv_r as _ZIG_INV_R
    from numba.np.random._constants import ziggurat_nor_r as _ZIG_R

    _HAVE_FAST_NORMAL = HAVE_NUMBA
except ImportError:
    _HAVE_FAST_NORMAL = False

if _HAVE_FAST_NORMAL:
    _ZIG_K = np.asarray(_ZIG_K_U64).astype(np.int64)  # all < 2**52
    _ZIG_SIGN = np.array([1.0, -1.0])  # -x exactly, without a branch on a random bit
    _PCG_M_HI = np.uint64(_PCG64_MULTIPLIER >> 64)
    _PCG_M_LO = np.uint64(_PCG64_MULTIPLIER & _MASK64)

    @_intrinsic
    def _muladd128(typingctx, a_hi, a_lo, b_hi, b_lo, c_hi, c_lo):
        """(a * b + c) mod 2**128 on (high, low) uint64 halves."""
        u64 = _nbtypes.uint64
        sig = _nbtypes.UniTuple(u64, 2)(u64, u64, u64, u64, u64, u64)

        def codegen(context, builder, signature, args):
            i128 = _ir.IntType(128)
            shift = _ir.Constant(i128, 64)

            def wide(hi, lo):
                return builder.or_(builder.shl(builder.zext(hi, i128), shift), builder.zext(lo, i128))

            r = builder.add(builder.mul(wide(args[0], args[1]), wide(args[2], args[3])), wide(args[4], args[5]))
            hi = builder.trunc(builder.lshr(r, shift), _ir.IntType(64))
            return context.make_tuple(builder, signature.return_type, (hi, builder.trunc(r, _ir.IntType(64))))

        return sig, codegen

    @njit(cache=True)
    def _xsl_rr(hi, lo):
        """PCG64 output of a 128-bit state: (hi ^ lo) rotated right by the top 6 bits."""
        x = hi ^ lo
        rot = hi >> np.uint64(58)
        return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))

    @njit(cache=True)
    def _pcg_refill(chains, pcg, raw):
        """Next len(raw) PCG64 outputs; chain c holds the state of output c (mod 4) and jumps 4 steps."""
        a_hi, a_lo, c_hi, c_lo = pcg[4], pcg[5], pcg[6], pcg[7]
        h0, l0, h1, l1 = chains[0], chains[1], chains[2], chains[3]
        h2, l2, h3, l3 = chains[4], chains[5], chains[6], chains[7]
        for t in range(0, raw.shape[0], 4):  # four independent chains keep the multiplier busy
            raw[t] = _xsl_rr(h0, l0)
            raw[t + 1] = _xsl_rr(h1, l1)
            raw[t + 2] = _xsl_rr(h2, l2)
            raw[t + 3] = _xsl_rr(h3, l3)
            h0, l0 = _muladd128(h0, l0, a_hi, a_lo, c_hi, c_lo)
            h1, l1 = _muladd128(h1, l1, a_hi, a_lo, c_hi, c_lo)
            h2, l2 = _muladd128(h2, l2, a_hi, a_lo, c_hi, c_lo)
            h3, l3 = _muladd128(h3, l3, a_hi, a_lo, c_hi, c_lo)
        chains[0], chains[1], chains[2], chains[3] = h0, l0, h1, l1
        chains[4], chains[5], chains[6], chains[7] = h2, l2, h3, l3

    @njit(cache=True)
    def _pcg_advance(pcg, delta):
        """Advance the state pcg[0:2] by ``delta`` steps (Brown 1994, as PCG64.advance)."""
        one = np.uint64(1)
        zero = np.uint64(0)
        acc_mh, acc_ml = zero, one
        acc_ph, acc_pl = zero, zero
        cur_mh, cur_ml = _PCG_M_HI, _PCG_M_LO
        cur_ph, cur_pl = pcg[2], pcg[3]
        while delta > 0:
            if delta & 1:
                acc_mh, acc_ml = _muladd128(acc_mh, acc_ml, cur_mh, cur_ml, zero, zero)
                acc_ph, acc_pl = _muladd128(acc_ph, acc_pl, cur_mh, cur_ml, cur_ph, cur_pl)
            t_h, t_l = _muladd128(cur_mh, cur_ml, zero, one, zero, one)  # cur_mult + 1
            cur_ph, cur_pl = _muladd128(t_h, t_l, cur_ph, cur_pl, zero, zero)
            cur_mh, cur_ml = _muladd128(cur_mh, cur_ml, cur_mh, cur_ml, zero, zero)
            delta >>= 1
        pcg[0], pcg[1] = _muladd128(acc_mh, acc_ml, pcg[0], pcg[1], acc_ph, acc_pl)

    @njit(cache=True)
    def pcg64_normals(pcg, out):
        """Fill ``out`` as NumPy's ``random_standard_normal`` on the PCG64 state in ``pcg``, and advance it.

        pcg: uint64[8] = state (hi, lo), increment (hi, lo), 4-step multiplier (hi, lo), 4-step increment (hi, lo).
        """
        n = out.shape[0]
        if n == 0:
            return
        size = _PCG_BUFFER
        raw = np.empty(size, dtype=np.uint64)
        chains = np.empty(8, dtype=np.uint64)
        hi, lo = pcg[0], pcg[1]
        for c in range(4):  # the states of the next four outputs
            hi, lo = _muladd128(hi, lo, _PCG_M_HI, _PCG_M_LO, pcg[2], pcg[3])
            chains[2 * c] = hi
            chains[2 * c + 1] = lo
        scale = 1.0 / 9007199254740992.0
        pos = size
        used = -size
        k = 0
        while k < n:
            if pos == size:
                _pcg_refill(chains, pcg, raw)
                pos = 0
                used += size
            stop = min(size, pos + (n - k))
            rejected = False
            while pos < stop:  # the fast path (~98.8 %): x = +-rabs * w[idx], accepted if rabs < k[idx]
                r = raw[pos]
                idx = np.int64(r & np.uint64(0xFF))
                rabs = np.int64((r >> np.uint64(9)) & np.uint64(0x000FFFFFFFFFFFFF))
                if rabs >= _ZIG_K[idx]:
                    rejected = True
                    break
                out[k] = _ZIG_SIGN[np.int64((r >> np.uint64(8)) & np.uint64(1))] * (np.float64(rabs) * _ZIG_W[idx])
                k += 1
                pos += 1
            if not rejected:
                continue
            r = raw[pos]
            pos += 1
            idx = np.int64(r & np.uint64(0xFF))
            rabs = np.int64((r >> np.uint64(9)) & np.uint64(0x000FFFFFFFFFFFFF))
            x = _ZIG_SIGN[np.int64((r >> np.uint64(8)) & np.uint64(1))] * (np.float64(rabs) * _ZIG_W[idx])
            while True:  # the tail or a wedge, from 1 - U with U = next_double, as NumPy
                if pos == size:
                    _pcg_refill(chains, pcg, raw)
                    pos = 0
                    used += size
                u = np.float64(raw[pos] >> np.uint64(11)) * scale
                pos += 1
                if idx == 0:
                    if pos == size:
                        _pcg_refill(chains, pcg, raw)
                        pos = 0
                        used += size
                    u2 = np.float64(raw[pos] >> np.uint64(11)) * scale
                    pos += 1
                    xx = -_ZIG_INV_R * math.log1p(-u)
                    yy = -math.log1p(-u2)
                    if yy + yy > xx * xx:
                        out[k] = -(_ZIG_R + xx) if (rabs >> 8) & 0x1 else _ZIG_R + xx
                        k += 1
                        break
                else:
                    if (_ZIG_F[idx - 1] - _ZIG_F[idx]) * u + _ZIG_F[idx] < math.exp(-0.5 * x * x):
                        out[k] = x
                        k += 1
                    break  # accepted, or rejected: a fresh draw
        _pcg_advance(pcg, used + pos)

else:

    @njit(cache=True)
    def pcg64_normals(pcg, out):
        """Stand-in: never called without the compiled generator (noise is drawn by NumPy then)."""
        return


def pcg_words(full_state: dict) -> np.ndarray:
    """uint64[8] for :func:`_pcg64_normals` from ``PCG64.state``."""
    state, inc = full_state["state"]["state"], full_state["state"]["inc"]
    m = _PCG64_MULTIPLIER
    m4 = pow(m, 4, 1 << 128)
    c4 = inc * (1 + m + m * m + m * m * m) % (1 << 128)
    return np.array([state >> 64, state & _MASK64, inc >> 64, inc & _MASK64, m4 >> 64, m4 & _MASK64, c4 >> 64,
                     c4 & _MASK64], dtype=np.uint64)


def pcg_store(bitgen, full_state: dict, words: np.ndarray) -> None:
    """Write the advanced state back (the buffered 32-bit half, untouched by normals, stays)."""
    full_state = {**full_state, "state": {**full_state["state"], "state": int(words[0]) << 64 | int(words[1])}}
    bitgen.state = full_state


def fast_normals(rng) -> bool:
    return _HAVE_FAST_NORMAL and type(rng.bit_generator) is np.random.PCG64


def standard_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """``rng.standard_normal(shape)``: the same numbers, and the generator left in the same state."""
    if not fast_normals(rng):
        return rng.standard_normal(shape)
    out = np.empty(shape)
    bitgen = rng.bit_generator
    full = bitgen.state
    words = pcg_words(full)
    pcg64_normals(words, out.reshape(-1))
    pcg_store(bitgen, full, words)
    return out
