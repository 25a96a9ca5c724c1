"""Compiled time loops of the oscillator networks, and the runner that feeds them block by block.

Implementation of :func:`~harmonix.simulate.oscillators.simulate_kuramoto` and
:func:`~harmonix.simulate.oscillators.simulate_stuart_landau` (the models, their
parameters and their checks are in :mod:`harmonix.simulate.oscillators`).
:func:`run_blocks` takes the checked arguments, lays out the arrays the kernels
work on (delay history, edge classes, noise buffers, the PCG64 state) and runs
a kernel on successive blocks of noise, drive and temperature; the kernels are
numba ``njit(cache=True)`` functions (:mod:`harmonix.simulate._compiled`; plain
Python without numba, correct but slow). One step ``dt``, with
:math:`\\sigma = \\sqrt{2T(t)\\,dt}` and :math:`\\xi` standard normal:

- Kuramoto (:func:`_kuramoto_kernel`), Euler-Maruyama, with the delayed sums
  :math:`C_i = \\sum_j W_{ij}\\cos\\theta_j(t - \\tau_{ij})`,
  :math:`S_i = \\sum_j W_{ij}\\sin\\theta_j(t - \\tau_{ij})` (one cos and one
  sin per node and step, none per edge):
  :math:`\\theta_i \\leftarrow \\theta_i + dt\\,\\bigl(\\omega_i + K(\\cos\\theta_i S_i
  - \\sin\\theta_i C_i) + \\operatorname{Im}(F_i e^{-i\\theta_i})\\bigr) + \\sigma\\xi_i`;
  all-to-all (:func:`_mean_field_block`) the coupling is
  :math:`K r \\sin(\\psi - \\theta_i) = K \\operatorname{Im}(Z e^{-i\\theta_i})`,
  O(N) per step;
- Stuart-Landau (:func:`_stuart_landau_kernel`), Lawson-Euler:
  :math:`z \\leftarrow e^{(a - \\gamma + i\\omega)dt}\\,\\bigl(z + dt\\,N(z)
  + \\sigma(\\xi^{re} + i\\,\\xi^{im})\\bigr)`, N the nonlinear, coupling and
  drive terms;
- Hebbian plasticity, while :math:`\\eta\\,dt > 0` (T above the threshold):
  :math:`W_{ij} \\leftarrow \\operatorname{clip}\\bigl(W_{ij} + \\eta\\,dt\\,(W_\\mathrm{max}
  \\cos(\\theta_j - \\theta_i) - W_{ij}), 0, W_\\mathrm{max}\\bigr)` on every edge,
  from the phases at the start of the step.

The layout of the delay history and the way the delayed input is gathered
ahead of time, so that the results do not depend on the block sizes, are
described in the notes below the imports.
"""

from __future__ import annotations

import math

import numpy as np

from harmonix.simulate._compiled import njit
from harmonix.simulate.pcg64 import fast_normals as _fast_normals
from harmonix.simulate.pcg64 import pcg64_normals as _pcg64_normals
from harmonix.simulate.pcg64 import pcg_store as _pcg_store
from harmonix.simulate.pcg64 import pcg_words as _pcg_words
from harmonix.simulate.pcg64 import standard_normal as _standard_normal
from harmonix.simulate.schedules import Constant, Schedule


# The network kernels keep the delay history node-major and contiguous in
# time, the two real components of each state interleaved: h[j, 2c], h[j, 2c+1]
# (Stuart-Landau: Re z, Im z; Kuramoto: cos theta, sin theta) for successive
# steps c, column ``head`` holding the current state. The state of node j d
# steps ago is column ``head - d``: no modulo in the loop. When the columns run
# out, the last ``max_delay + 1`` move to the front.
#
# The delayed coupling input of a step is mostly gathered ahead of time. Steps
# go in blocks of ``big`` steps split into sub-blocks of ``small`` steps. An
# edge with delay d >= big - 1 reads, over a whole block, only states known at
# its start; so at the start of each block its inputs for all the block's
# steps are gathered at once, four edges at a time, as contiguous (SIMD)
# multiply-adds over 2 x big numbers. Edges with small - 1 <= d < big - 1 are
# gathered likewise per sub-block, and the few with d < small - 1 step by step.
# Edges are sorted by delay within each row; ``bounds[:, i]`` splits row i into
# these three classes (short, middle, long). Each per-node input is the same
# sequence of floating-point operations whichever way it is computed (in a
# class, groups of four edges added as ((w0 x0 + w1 x1) + (w2 x2 + w3 x3)),
# then the remaining edges; the long-class sum plus the middle-class sum, then
# the short edges one by one), so the results do not depend on where blocks,
# sub-blocks or noise blocks start. While plasticity is changing the weights
# (eta > 0 somewhere in a block) every edge is read step by step.
#
# Noise (``noise_mode``): 0 none; 1 drawn beforehand, ``noise[s, :]`` for step
# s of the call; 2 drawn in the kernel from the PCG64 state ``pcg``, one
# sub-block at a time into ``nbuf`` (the same numbers in the same order).


@njit(cache=True)
def _shift_history(h, head, max_delay):
    """Move the last ``max_delay + 1`` columns to the front; returns the new head."""
    n = h.shape[0]
    start = 2 * (head - max_delay)
    for i in range(n):
        row = h[i]
        for c in range(2 * (max_delay + 1)):
            row[c] = row[start + c]
    return max_delay


@njit(cache=True)
def _gather_ahead(h, head, nb, lo, hi, indices, w, delay, acc, inp, b0, add):
    """inp[b0 + b, :, i] (+)= sum over edges e in lo[i]..hi[i]-1 of w_e h[j_e, 2(head + b - d_e):+2], for b < nb.

    Edges are added four at a time, ((w0 x0 + w1 x1) + (w2 x2 + w3 x3)), then
    the rest one by one, exactly as :func:`_gather_now` does step by step.
    """
    n = acc.shape[0]
    m = np.uint64(2 * nb)
    flat = h.reshape(-1)
    row = np.uint64(h.shape[1])
    for i in range(n):
        a = acc[i]
        for b in range(m):
            a[b] = 0.0
        e = lo[i]
        end = hi[i]
        while e + 4 <= end:  # offsets are >= 0; unsigned, so no wraparound checks
            x0 = np.uint64(indices[e]) * row + np.uint64(2 * (head - delay[e]))
            x1 = np.uint64(indices[e + 1]) * row + np.uint64(2 * (head - delay[e + 1]))
            x2 = np.uint64(indices[e + 2]) * row + np.uint64(2 * (head - delay[e + 2]))
            x3 = np.uint64(indices[e + 3]) * row + np.uint64(2 * (head - delay[e + 3]))
            w0 = w[e]
            w1 = w[e + 1]
            w2 = w[e + 2]
            w3 = w[e + 3]
            for b in range(m):
                a[b] += (w0 * flat[x0 + b] + w1 * flat[x1 + b]) + (w2 * flat[x2 + b] + w3 * flat[x3 + b])
            e += 4
        while e < end:
            x0 = np.uint64(indices[e]) * row + np.uint64(2 * (head - delay[e]))
            w0 = w[e]
            for b in range(m):
                a[b] += w0 * flat[x0 + b]
            e += 1
        if add:
            for b in range(nb):
                inp[b0 + b, 0, i] += a[2 * b]
                inp[b0 + b, 1, i] += a[2 * b + 1]
        else:
            for b in range(nb):
                inp[b0 + b, 0, i] = a[2 * b]
                inp[b0 + b, 1, i] = a[2 * b + 1]


@njit(cache=True)
def _gather_now(h, head, lo, hi, indices, w, delay):
    """Sum of w_e h[j_e, 2(head - d_e):+2] over edges lo..hi-1, grouped as in :func:`_gather_ahead`."""
    s1 = 0.0
    s2 = 0.0
    e = lo
    while e + 4 <= hi:
        c0 = 2 * (head - delay[e])
        c1 = 2 * (head - delay[e + 1])
        c2 = 2 * (head - delay[e + 2])
        c3 = 2 * (head - delay[e + 3])
        j0 = indices[e]
        j1 = indices[e + 1]
        j2 = indices[e + 2]
        j3 = indices[e + 3]
        w0 = w[e]
        w1 = w[e + 1]
        w2 = w[e + 2]
        w3 = w[e + 3]
        s1 += (w0 * h[j0, c0] + w1 * h[j1, c1]) + (w2 * h[j2, c2] + w3 * h[j3, c3])
        s2 += (w0 * h[j0, c0 + 1] + w1 * h[j1, c1 + 1]) + (w2 * h[j2, c2 + 1] + w3 * h[j3, c3 + 1])
        e += 4
    while e < hi:
        col = 2 * (head - delay[e])
        s1 += w[e] * h[indices[e], col]
        s2 += w[e] * h[indices[e], col + 1]
        e += 1
    return s1, s2


@njit(cache=True)
def _delayed_input(h, head, b, learning, bounds, short_rows, indices, w, delay, inp):
    """Complete inp[b, :, i], the delayed input of node i at this step (step b of the block).

    inp[b] holds the long-class plus middle-class sums gathered ahead, unless
    learning (then they are summed now); the short edges are added now.
    """
    if learning:
        for i in range(inp.shape[2]):
            s1, s2 = _gather_now(h, head, bounds[2, i], bounds[3, i], indices, w, delay)
            t1, t2 = _gather_now(h, head, bounds[1, i], bounds[2, i], indices, w, delay)
            inp[b, 0, i] = s1 + t1
            inp[b, 1, i] = s2 + t2
    for i in short_rows:  # the rows with edges shorter than a sub-block
        s1 = inp[b, 0, i]
        s2 = inp[b, 1, i]
        for e in range(bounds[0, i], bounds[1, i]):
            col = 2 * (head - delay[e])
            s1 += w[e] * h[indices[e], col]
            s2 += w[e] * h[indices[e], col + 1]
        inp[b, 0, i] = s1
        inp[b, 1, i] = s2


@njit(cache=True)
def _noise_at(noise_flat, nbuf, noise_mode, s, b, width, k):
    """Normal number k of step s (call-relative; b: in the sub-block)."""
    return noise_flat[s * width + k] if noise_mode == 1 else nbuf[b * width + k]


@njit(cache=True)
def _learning(plastic, eta_dt, s0, nb):
    if plastic:
        for b in range(nb):
            if eta_dt[s0 + b] > 0.0:
                return True
    return False


@njit(cache=True)
def _row_sums(bounds, w, wsum):
    """Sum of each row's weights (long, middle, then short edges)."""
    for i in range(wsum.shape[0]):
        ws = 0.0
        for e in range(bounds[2, i], bounds[3, i]):
            ws += w[e]
        for e in range(bounds[1, i], bounds[2, i]):
            ws += w[e]
        for e in range(bounds[0, i], bounds[1, i]):
            ws += w[e]
        wsum[i] = ws


@njit(cache=True)
def _kuramoto_kernel(theta, h, head, max_delay, big, small, g0, count, dt, omega, coupling, bounds, short_rows,
                     indices, w, delay, drive, has_drive, noise, sig, noise_mode, pcg, nbuf, eta_dt, w_max, plastic,
                     record_every, rec_states, rec_order, rec_energy, acc, inp):
    """Euler-Maruyama steps of the network Kuramoto model.

    K sum_j W_ij sin(theta_j(t - d) - theta_i) = K (cos theta_i S_i - sin theta_i C_i), with C, S the
    delayed sums over the cos / sin history: one cos and one sin per node and step, none per edge.
    """
    n = theta.shape[0]
    length = h.shape[1] // 2
    noise_flat = noise.reshape(-1)
    s0 = 0
    while s0 < count:
        nb1 = min(big, count - s0)
        if head + nb1 >= length:
            head = _shift_history(h, head, max_delay)
        learning = _learning(plastic, eta_dt, s0, nb1)
        if not learning:
            _gather_ahead(h, head, nb1, bounds[2], bounds[3], indices, w, delay, acc, inp, 0, False)
        b1 = 0
        while b1 < nb1:
            nb2 = min(small, nb1 - b1)
            if not learning:
                _gather_ahead(h, head, nb2, bounds[1], bounds[2], indices, w, delay, acc, inp, b1, True)
            if noise_mode == 2:
                _pcg64_normals(pcg, nbuf[: nb2 * n])
            for b2 in range(nb2):
                s = s0 + b1 + b2
                _delayed_input(h, head, b1 + b2, learning, bounds, short_rows, indices, w, delay, inp)
                sc = inp[b1 + b2, 0]
                ss = inp[b1 + b2, 1]
                cur = 2 * head
                src = noise_flat if noise_mode == 1 else nbuf
                off = s * n if noise_mode == 1 else b2 * n
                for i in range(n):
                    ci = h[i, cur]
                    si = h[i, cur + 1]
                    rate = omega[i] + coupling * (ci * ss[i] - si * sc[i])
                    if has_drive:
                        f = drive[s, i]
                        rate += f.imag * ci - f.real * si
                    new = theta[i] + dt * rate
                    if noise_mode != 0:
                        new += sig[s] * src[off + i]
                    theta[i] = new  # h still holds the old state for the other nodes
                if learning and eta_dt[s] > 0.0:
                    for i in range(n):
                        ci = h[i, cur]
                        si = h[i, cur + 1]
                        for e in range(bounds[0, i], bounds[3, i]):
                            j = indices[e]
                            v = w[e] + eta_dt[s] * (w_max * (h[j, cur] * ci + h[j, cur + 1] * si) - w[e])
                            w[e] = min(max(v, 0.0), w_max)
                head += 1
                cur = 2 * head
                for i in range(n):
                    h[i, cur] = math.cos(theta[i])
                    h[i, cur + 1] = math.sin(theta[i])
                g = g0 + s + 1
                if g % record_every == 0:
                    k = g // record_every - 1
                    sr = 0.0
                    si = 0.0
                    en = 0.0
                    for i in range(n):
                        ci = h[i, cur]
                        sn = h[i, cur + 1]
                        sr += ci
                        si += sn
                        rec_states[k, i] = math.atan2(sn, ci)
                        for e in range(bounds[0, i], bounds[3, i]):
                            j = indices[e]
                            en += w[e] * (h[j, cur] * ci + h[j, cur + 1] * sn)
                    rec_order[k] = math.sqrt(sr * sr + si * si) / n
                    rec_energy[k] = -0.5 * coupling * en / n
            b1 += nb2
        s0 += nb1
    return head


@njit(cache=True)
def _stuart_landau_kernel(z, h, head, max_delay, big, small, g0, count, dt, lin, coupling, bounds, short_rows,
                          indices, w, delay, drive, has_drive, noise, sig, noise_mode, pcg, nbuf, eta_dt, w_max,
                          plastic, record_every, rec_states, rec_order, rec_energy, acc, inp):
    """Lawson-Euler step z <- e^{(a - gamma + i omega) dt} (z + dt N(z) + sig noise); noise (re, im) per node."""
    n = z.shape[0]
    width = 2 * n
    length = h.shape[1] // 2
    noise_flat = noise.reshape(-1)
    zr = np.empty(n)
    zi = np.empty(n)
    pr = np.empty(n)
    pi = np.empty(n)
    amp = np.empty(n)
    nz_re = np.empty(n)
    nz_im = np.empty(n)
    lr = np.empty(n)
    li = np.empty(n)
    wsum = np.empty(n)
    for i in range(n):
        zr[i] = z[i].real
        zi[i] = z[i].imag
        lr[i] = lin[i].real
        li[i] = lin[i].imag
    _row_sums(bounds, w, wsum)
    s0 = 0
    while s0 < count:
        nb1 = min(big, count - s0)
        if head + nb1 >= length:
            head = _shift_history(h, head, max_delay)
        learning = _learning(plastic, eta_dt, s0, nb1)
        if not learning:
            _gather_ahead(h, head, nb1, bounds[2], bounds[3], indices, w, delay, acc, inp, 0, False)
        b1 = 0
        while b1 < nb1:
            nb2 = min(small, nb1 - b1)
            if not learning:
                _gather_ahead(h, head, nb2, bounds[1], bounds[2], indices, w, delay, acc, inp, b1, True)
            if noise_mode == 2:
                _pcg64_normals(pcg, nbuf[: nb2 * width])
            for b2 in range(nb2):
                s = s0 + b1 + b2
                _delayed_input(h, head, b1 + b2, learning, bounds, short_rows, indices, w, delay, inp)
                ur = inp[b1 + b2, 0]
                ui = inp[b1 + b2, 1]
                sg = sig[s]
                plastic_step = learning and eta_dt[s] > 0.0
                if plastic_step:  # the rule uses z(t)
                    for i in range(n):
                        pr[i] = zr[i]
                        pi[i] = zi[i]
                if has_drive:
                    for i in range(n):
                        xr = zr[i]
                        xi = zi[i]
                        p = xr * xr + xi * xi
                        vr = xr + dt * (coupling * (ur[i] - wsum[i] * xr) - p * xr + drive[s, i].real)
                        vi = xi + dt * (coupling * (ui[i] - wsum[i] * xi) - p * xi + drive[s, i].imag)
                        if noise_mode != 0:
                            vr += sg * _noise_at(noise_flat, nbuf, noise_mode, s, b2, width, 2 * i)
                            vi += sg * _noise_at(noise_flat, nbuf, noise_mode, s, b2, width, 2 * i + 1)
                        zr[i] = lr[i] * vr - li[i] * vi
                        zi[i] = lr[i] * vi + li[i] * vr
                elif noise_mode != 0:
                    src = noise_flat if noise_mode == 1 else nbuf
                    off = s * width if noise_mode == 1 else b2 * width
                    for i in range(n):  # de-interleave (re, im), so that the update below vectorises
                        nz_re[i] = src[off + 2 * i]
                        nz_im[i] = src[off + 2 * i + 1]
                    for i in range(n):
                        xr = zr[i]
                        xi = zi[i]
                        p = xr * xr + xi * xi
                        vr = xr + dt * (coupling * (ur[i] - wsum[i] * xr) - p * xr) + sg * nz_re[i]
                        vi = xi + dt * (coupling * (ui[i] - wsum[i] * xi) - p * xi) + sg * nz_im[i]
                        zr[i] = lr[i] * vr - li[i] * vi
                        zi[i] = lr[i] * vi + li[i] * vr
                else:
                    for i in range(n):
                        xr = zr[i]
                        xi = zi[i]
                        p = xr * xr + xi * xi
                        vr = xr + dt * (coupling * (ur[i] - wsum[i] * xr) - p * xr)
                        vi = xi + dt * (coupling * (ui[i] - wsum[i] * xi) - p * xi)
                        zr[i] = lr[i] * vr - li[i] * vi
                        zi[i] = lr[i] * vi + li[i] * vr
                if plastic_step:
                    for i in range(n):
                        amp[i] = math.hypot(pr[i], pi[i])
                    for i in range(n):
                        ai = amp[i]
                        for e in range(bounds[0, i], bounds[3, i]):
                            j = indices[e]
                            aj = amp[j]
                            c = 0.0
                            if ai > 0.0 and aj > 0.0:
                                c = (pr[j] * pr[i] + pi[j] * pi[i]) / (ai * aj)
                            v = w[e] + eta_dt[s] * (w_max * c - w[e])
                            w[e] = min(max(v, 0.0), w_max)
                    _row_sums(bounds, w, wsum)
                head += 1
                nxt = 2 * head
                for i in range(n):
                    h[i, nxt] = zr[i]
                    h[i, nxt + 1] = zi[i]
                g = g0 + s + 1
                if g % record_every == 0:
                    k = g // record_every - 1
                    sum_re = 0.0
                    sum_im = 0.0
                    power = 0.0
                    for i in range(n):
                        p = zr[i] * zr[i] + zi[i] * zi[i]
                        power += p
                        if p > 0.0:
                            a = math.sqrt(p)
                            sum_re += zr[i] / a
                            sum_im += zi[i] / a
                        rec_states[k, i] = complex(zr[i], zi[i])
                    rec_order[k] = math.sqrt(sum_re * sum_re + sum_im * sum_im) / n
                    rec_energy[k] = power / n
            b1 += nb2
        s0 += nb1
    for i in range(n):
        z[i] = complex(zr[i], zi[i])
    return head


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------

_BLOCK_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)


def _block_sizes(delay, n: int) -> tuple[int, int]:
    """(big, small) block lengths minimising a cost model of the gathers (ns per step, measured on x86-64).

    An edge read step by step costs ~5 ns a step; gathered ahead over L steps
    ~0.3 + 3.2 / L ns a step; each gather pass ~2 n / L ns a step.
    """
    best = (math.inf, 1, 1)
    sizes = [size for size in _BLOCK_SIZES if size <= int(delay.max(initial=0)) + 1]  # longer: no edge gains
    for small in sizes:
        n_short = np.count_nonzero(delay < small - 1)
        for big in sizes:
            if big < small or big % small:
                continue
            n_long = np.count_nonzero(delay >= big - 1)
            n_mid = delay.size - n_short - n_long
            cost = (5.0 * n_short + (0.3 + 3.2 / small) * n_mid + (0.3 + 3.2 / big) * n_long
                    + 2.0 * n * (1.0 / small + 1.0 / big))
            if cost < best[0]:
                best = (cost, big, small)
    return best[1], best[2]


def run_blocks(model, state, n_steps, dt, record_every, schedule: Schedule, rng, drive, network, coupling,
               node_param, plasticity, mean_field: bool, block_elements: int):
    """Integrate ``n_steps`` steps of ``model`` from ``state`` (updated in place); every ``record_every``-th is kept.

    ``drive`` gives the drive of steps ``start .. start + count - 1`` as
    ``drive.block(start, count)`` (complex, shape (count, n), or ``None``:
    :class:`harmonix.simulate.oscillators._Drive`); ``network`` is
    ``(indptr, indices, weights, delay_steps)``, CSR with the edges of each
    row sorted by delay (the weights are updated in place under
    ``plasticity``, a :class:`~harmonix.simulate.oscillators.Hebbian` or
    ``None``), or ``None`` with ``mean_field``. ``node_param``: ``omega``
    (Kuramoto) or :math:`e^{(a - \\gamma + i\\omega)dt}` (Stuart-Landau). Noise,
    drive and temperature are made for ``block_elements`` normal numbers'
    worth of steps at a time (``n`` a step, ``2n`` for Stuart-Landau).
    Returns the record times, states, order parameter, energy and
    temperature.
    """
    n = state.shape[0]
    n_rec = n_steps // record_every
    is_sl = model == "stuart-landau"
    rec_states = np.empty((n_rec, n), dtype=complex if is_sl else float)
    rec_order = np.empty(n_rec)
    rec_energy = np.empty(n_rec)
    has_noise = not (isinstance(schedule, Constant) and schedule.T == 0.0)
    width = 2 * n if is_sl else n  # normal numbers per step (Stuart-Landau: re, im per node)
    block = max(1, int(block_elements) // width)
    noise_mode = 0
    if has_noise:
        noise_mode = 2 if (not mean_field and _fast_normals(rng)) else 1
    dummy_c = np.zeros((1, n), dtype=complex)
    dummy_r = np.zeros((1, width))
    w_max = 0.0 if plasticity is None else plasticity.w_max

    if not mean_field:
        indptr, indices, w, delay = network  # edges sorted by delay within each row
        max_delay = int(delay.max()) if delay.size else 0
        big, small = _block_sizes(delay, n)
        rows = np.repeat(np.arange(n), np.diff(indptr))
        bounds = np.empty((4, n), dtype=np.int64)  # row i: [short | middle | long] edges
        bounds[0] = indptr[:-1]
        bounds[1] = bounds[0] + np.bincount(rows[delay < small - 1], minlength=n)
        bounds[2] = bounds[0] + np.bincount(rows[delay < big - 1], minlength=n)
        bounds[3] = indptr[1:]
        short_rows = np.flatnonzero(bounds[1] > bounds[0])
        length = 4 * (max_delay + 1) + 4 * big + 64  # shifted back every >= 3 (max_delay + 1) steps
        h = np.empty((n, length, 2))
        first = np.stack((state.real, state.imag) if is_sl else (np.cos(state), np.sin(state)), axis=1)
        h[:, : max_delay + 1] = first[:, None, :]  # constant history before t = 0
        h = h.reshape(n, 2 * length)
        head = max_delay
        acc = np.empty((n, 2 * big))
        inp = np.empty((big, 2, n))  # delayed input of each step of a block
        nbuf = np.empty(small * width if noise_mode == 2 else 0)
        if noise_mode == 2:
            bitgen = rng.bit_generator
            full_state = bitgen.state
            pcg = _pcg_words(full_state)
        else:
            pcg = np.zeros(8, dtype=np.uint64)
        kernel = _stuart_landau_kernel if is_sl else _kuramoto_kernel

    try:
        for start in range(0, n_steps, block):
            count = min(block, n_steps - start)
            t_start = (start + np.arange(count)) * dt
            temps = schedule.evaluate(t_start)
            sig = np.sqrt(2.0 * temps * dt)
            noise = _standard_normal(rng, (count, width)) if noise_mode == 1 else dummy_r
            f = drive.block(start, count)
            has_drive = f is not None
            f = f if has_drive else dummy_c
            if plasticity is not None:
                eta_dt = np.where(temps > plasticity.T_threshold, plasticity.rate * dt, 0.0)
            else:
                eta_dt = np.zeros(1)
            if mean_field:
                _mean_field_block(state, start, count, dt, node_param, coupling, f, has_drive, noise, sig,
                                  noise_mode != 0, record_every, rec_states, rec_order, rec_energy)
            else:
                head = kernel(state, h, head, max_delay, big, small, start, count, dt, node_param, coupling,
                              bounds, short_rows, indices, w, delay, f, has_drive, noise, sig, noise_mode, pcg, nbuf,
                              eta_dt, w_max, plasticity is not None, record_every, rec_states, rec_order, rec_energy,
                              acc, inp)
    finally:
        if not mean_field and noise_mode == 2:  # the caller's generator advances as with Generator.standard_normal
            _pcg_store(bitgen, full_state, pcg)
    rec_times = (np.arange(1, n_rec + 1) * record_every) * dt
    rec_temps = schedule.evaluate((np.arange(1, n_rec + 1) * record_every - 1) * dt)
    return rec_times, rec_states, rec_order, rec_energy, rec_temps


@njit(cache=True)
def _mean_field_block(theta, g0, count, dt, omega, coupling, drive, has_drive, noise, sig, has_noise,
                      record_every, rec_states, rec_order, rec_energy):  # pragma: no cover - compiled
    """All-to-all Kuramoto in O(N) per step: K r sin(psi - theta_i) = K Im(Z e^{-i theta_i})."""
    n = theta.shape[0]
    c = np.empty(n)
    si = np.empty(n)
    for s in range(count):
        zr = 0.0
        zi = 0.0
        for i in range(n):
            c[i] = math.cos(theta[i])
            si[i] = math.sin(theta[i])
            zr += c[i]
            zi += si[i]
        zr /= n
        zi /= n
        for i in range(n):
            rate = omega[i] + coupling * (zi * c[i] - zr * si[i])
            if has_drive:
                rate += drive[s, i].imag * c[i] - drive[s, i].real * si[i]
            theta[i] += dt * rate
            if has_noise:
                theta[i] += sig[s] * noise[s, i]
        g = g0 + s + 1
        if g % record_every == 0:
            k = g // record_every - 1
            zr = 0.0
            zi = 0.0
            for i in range(n):
                cc = math.cos(theta[i])
                ss = math.sin(theta[i])
                zr += cc
                zi += ss
                rec_states[k, i] = math.atan2(ss, cc)
            r2 = (zr * zr + zi * zi) / (n * n)
            rec_order[k] = math.sqrt(r2)
            rec_energy[k] = -0.5 * coupling * r2
