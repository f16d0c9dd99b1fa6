"""Encoding engine against scikit-learn, himalaya and MNE on the same data, and the
paper protocol with a 1000-permutation null at the dataset's size.

    .venv/bin/python benchmarks/encoding.py [--quick]

Every comparison runs both sides on the same simulated data and folds and prints our
time, the reference time, their ratio and the agreement of the scores. A reference too
slow to run in full is timed on a subset of folds and extrapolated linearly, and the line
says so. Data (seeded, scales chosen to mimic the real features, see ``embeddings``):
100 words, 120 channels (log-normal levels, 15 % word-to-word variation, a quarter of the
channels driven by 8 latent word properties), fastText-like (300-d, entries ~0.1),
GPT-2-like (768-d, three "massive" dimensions) and flattened XLS-R-like (99 frames ×
1024, reduced in-fold by a PCA keeping 90 % of the variance) features; frame level: 100
words × 300 frames of 10 ms, high-gamma frames of word channels following the painted
word vector, speech channels following a 23-d log-mel-like feature 100 ms later.
"""

import argparse
import os
import platform
import subprocess
import time

import numpy as np
import pandas as pd

from hgrecon.encoding import FrameSettings, Settings, evaluate, evaluate_frames
from hgrecon.encoding.loo_path import loo_enet
from hgrecon.encoding.ridge import ridge_loo, ridge_nested_loo
from hgrecon.encoding.stats import pearson

ALPHAS = np.logspace(-2, 6, 17)
N_WORDS, N_CHANNELS = 100, 120


# data ---------------------------------------------------------------------------------------
def participant(seed):
    """Latent word properties z (100, 8) and trial-mean high-gamma Y (100, 120)."""
    rng = np.random.default_rng([seed, 0])
    z = rng.normal(size=(N_WORDS, 8))
    base = 5 * np.exp(0.7 * rng.normal(size=N_CHANNELS))
    Y = base * (1 + 0.15 * rng.normal(size=(N_WORDS, N_CHANNELS)))
    driven = rng.random(N_CHANNELS) < 0.25
    Y[:, driven] += z @ rng.normal(size=(8, driven.sum())) * 0.1 * base[driven]
    return z, Y


def embeddings(family, z, seed):
    """(100, d) features of one family, from the latent word properties."""
    rng = np.random.default_rng([seed, 1])
    n = len(z)
    if family == "fastText":
        return z @ rng.normal(size=(8, 300)) * 0.03 + rng.normal(size=(n, 300)) * 0.08
    if family == "GPT-2":
        X = z @ rng.normal(size=(8, 768)) * 0.15 + rng.normal(size=(n, 768)) * rng.uniform(
            0.3, 1.5, 768)
        X[:, [138, 378, 447]] = X[:, [138, 378, 447]] * 15 + rng.normal(size=3) * 300
        return X
    d = 99 * 1024
    low = rng.normal(size=(n, 40)).astype(np.float32) @ rng.normal(size=(40, d)).astype(np.float32)
    return (z.astype(np.float32) @ rng.normal(size=(8, d)).astype(np.float32) * 0.05
            + low * 0.05 + rng.normal(size=(n, d)).astype(np.float32) * 0.1)


def frame_session(seed, n_words=N_WORDS, frames_per_word=300, d=768):
    """A frame-level session: hg (n_frames, 120), frame times, words, speech, painted word
    vectors (n_words, d) and a 23-d audio feature (n_frames, 23)."""
    rng = np.random.default_rng([seed, 2])
    hop, window = 0.01, frames_per_word * 0.01
    onsets = 1.0 + (window + 0.6) * np.arange(n_words)
    n_frames = int((onsets[-1] + window + 1.0) / hop)
    t = np.arange(n_frames) * hop
    env = np.zeros(n_frames)
    for onset in onsets:
        s, dur = onset + rng.uniform(0.5, 1.0), rng.uniform(0.3, 0.8)
        inside = (t >= s) & (t < s + dur)
        env[inside] = np.sin(np.pi * (t[inside] - s) / dur)
    z = rng.normal(size=(n_words, 8))
    vectors = z @ rng.normal(size=(8, d)) * 0.15 + rng.normal(size=(n_words, d))
    audio = np.outer(env, rng.uniform(0.5, 1.5, 23)) + 0.1 * rng.normal(size=(n_frames, 23))
    level = np.zeros((n_frames, 8))
    for k, onset in enumerate(onsets):
        level[(t >= onset) & (t < onset + window - 0.4)] = z[k]
    hg = 5 * np.exp(0.5 * rng.normal(size=N_CHANNELS)) + rng.normal(size=(n_frames, N_CHANNELS))
    hg[:, :30] += level @ rng.normal(size=(8, 30)) * 0.4
    hg[:, 30:60] += np.roll(env, -10)[:, None] * rng.uniform(1, 3, 30)
    words = pd.DataFrame({"trial": np.arange(n_words), "word": [f"w{i:03d}" for i in range(n_words)],
                          "onset_s": onsets + 0.2})
    return hg, t, words, env > 0.05, vectors, audio


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def line(name, ours, ref, agreement, note=""):
    print(f"{name:<58} ours {ours:9.2f} s   ref {ref:10.1f} s   ratio {ref / ours:8.1f}x   "
          f"{agreement}{'   ' + note if note else ''}", flush=True)


# comparisons ----------------------------------------------------------------------------------
def frame_enet_vs_sklearn(n_ref_folds):
    """ElasticNet(alpha=1, l1_ratio=0.5), leave-one-word-out on a paper-sized frame-level
    participant (100 words × 300 frames, 120 channels, 768-d painted vectors)."""
    from sklearn.linear_model import ElasticNet

    hg, t, words, speech, vectors, _ = frame_session(0)
    st = FrameSettings(lags_ms=(0,), n_perm=0, n_shift=0, models=("elasticnet",),
                       margin_s=0.0, start_s=0.0, length_s=3.0)
    res, ours = timed(lambda: evaluate_frames(hg, t, words, list(map(str, range(N_CHANNELS))),
                                              speech, st, vectors=vectors))
    X = vectors[res.trial]                   # every selected frame is painted
    Y = res.measured.astype(float)
    diffs, spent = [], 0.0
    for word in range(n_ref_folds):
        test = res.trial == word
        model, dt = timed(lambda: ElasticNet(alpha=1.0, l1_ratio=0.5).fit(X[~test], Y[~test]))
        spent += dt
        diffs.append(np.abs(model.predict(X[test]) - res.predicted["elasticnet"][test]).max())
    ref = spent / n_ref_folds * N_WORDS
    line("frame-level ElasticNet LOWO (30k frames, 768-d, 120 ch)", ours, ref,
         f"max |Δpred| {max(diffs):.1e}",
         f"sklearn timed on {n_ref_folds} of 100 folds, extrapolated")


def trial_enet_vs_references(n_perm, n_ref_folds):
    """The paper's model on trial means: ElasticNet(alpha=1, l1_ratio=0.5), leave one word
    out, GPT-2-like features (100 × 768), 120 channels and ``n_perm`` shuffles of them
    (the columns of the paper-score null): our compiled path against our batched engine
    (``path=False``, what the torch backend runs), and on the 120 real channels against
    scikit-learn, fold by fold."""
    from sklearn.linear_model import ElasticNet

    from hgrecon.encoding.elasticnet import enet_loo
    from hgrecon.encoding.folds import permutations

    z, Y = participant(0)
    X = embeddings("GPT-2", z, 0)
    order = np.vstack([np.arange(N_WORDS)[None], permutations(N_WORDS, n_perm, 0)])
    Yall = Y[order.T].reshape(N_WORDS, -1)
    folds = [np.array([i]) for i in range(N_WORDS)]
    enet_loo(X[:5], Yall[:5, :2], folds[:5], 1.0, 0.5)       # numba: load or compile once
    (pred, nonzero), ours = timed(lambda: enet_loo(X, Yall, folds, 1.0, 0.5))
    (batched, _), ref = timed(lambda: enet_loo(X, Yall, folds, 1.0, 0.5, path=False))
    name = f"trial ElasticNet LOWO (100 × 768, {Yall.shape[1]} columns)"
    line(name + " vs batched engine", ours, ref,
         f"max |Δpred| {np.abs(batched - pred).max():.1e}")
    (real, _), ours = timed(lambda: enet_loo(X, Y, folds, 1.0, 0.5))
    diffs, spent = [], 0.0
    for f in range(n_ref_folds):
        train = np.arange(N_WORDS) != f
        model, dt = timed(lambda: ElasticNet(alpha=1.0, l1_ratio=0.5, tol=1e-8, max_iter=100_000)
                          .fit(X[train], Y[train]))
        spent += dt
        diffs.append(np.abs(model.predict(X[[f]]) - real[[f]]).max())
    line(f"trial ElasticNet LOWO (100 × 768, {N_CHANNELS} channels) vs sklearn", ours,
         spent / n_ref_folds * N_WORDS,
         f"max |Δpred| {max(diffs):.1e} (sklearn tol 1e-8)",
         f"sklearn timed on {n_ref_folds} of 100 folds, extrapolated")


def against_reference(name, ours, X, pred, index, n_ref_folds, fit, tool):
    """Time ``fit(train) -> (predict, alphas)`` of a reference on the first folds (leave
    one word out), compare its predictions and penalties with ours, print one line."""
    diffs, same, spent = [], [], 0.0
    for f in range(n_ref_folds):
        train = np.setdiff1d(np.arange(N_WORDS), f)
        start = time.perf_counter()
        predict, alphas = fit(train)
        ref_pred = np.asarray(predict(X[[f]]))
        spent += time.perf_counter() - start
        diffs.append(np.abs(ref_pred - pred[[f]]).max())
        same.append(np.mean(np.isclose(np.asarray(alphas), ALPHAS[index[f]])))
    line(name, ours, spent / n_ref_folds * N_WORDS,
         f"max |Δpred| {max(diffs):.1e}, same alpha {np.mean(same):.0%}",
         f"{tool} timed on {n_ref_folds} folds, extrapolated")


def scaled(model, X, Y):
    """(predict, penalties) of ``model`` fit on X standardised on its own rows."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    model.fit(scaler.transform(X), Y)
    alphas = getattr(model, "best_alphas_", getattr(model, "alpha_", None))
    return (lambda x: model.predict(scaler.transform(x))), alphas


def trial_ridge_vs_sklearn(n_ref_folds):
    """Per-channel penalty by inner LOO, inputs standardised on each fold's training
    words: sklearn StandardScaler + RidgeCV(alpha_per_target) per fold."""
    from sklearn.linear_model import RidgeCV

    z, Y = participant(0)
    X = embeddings("GPT-2", z, 0)
    folds = [np.array([i]) for i in range(N_WORDS)]
    (pred, index), ours = timed(lambda: ridge_loo(X, Y, folds, ALPHAS))
    against_reference("trial ridge, per-fold scaling (100 × 768, 120 ch)", ours, X, pred, index,
                      n_ref_folds, lambda tr: scaled(RidgeCV(alphas=ALPHAS, alpha_per_target=True),
                                                     X[tr], Y[tr]), "sklearn")
    Z = (X - X.mean(0)) / X.std(0)
    (pred, index), ours = timed(lambda: ridge_nested_loo(Z, Y, folds, ALPHAS))

    def fit(train):
        model = RidgeCV(alphas=ALPHAS, alpha_per_target=True).fit(Z[train], Y[train])
        return model.predict, model.alpha_

    against_reference("trial ridge, scaling on all words (shared decomposition)", ours, Z, pred,
                      index, n_ref_folds, fit, "sklearn")


def trial_ridge_vs_himalaya(n_ref_folds):
    """The same per-fold model with himalaya's RidgeCV (inner leave-one-out as
    KFold(n_train) splits)."""
    from himalaya.ridge import RidgeCV
    from sklearn.model_selection import KFold

    z, Y = participant(1)
    X = embeddings("fastText", z, 1)
    folds = [np.array([i]) for i in range(N_WORDS)]
    (pred, index), ours = timed(lambda: ridge_loo(X, Y, folds, ALPHAS))
    against_reference("trial ridge vs himalaya RidgeCV (100 × 300, 120 ch)", ours, X, pred, index,
                      n_ref_folds, lambda tr: scaled(RidgeCV(alphas=ALPHAS, fit_intercept=True,
                                                             cv=KFold(len(tr))), X[tr], Y[tr]),
                      "himalaya")


def lagged_vs_mne(n_ref_folds):
    """A lagged model: a 23-d audio feature at 5 delays (0–40 ms, high-gamma leading),
    leave-one-word-out, one fixed penalty: MNE ReceptiveField(TimeDelayingRidge) on the
    trial windows as epochs against our frame-level ridge with the delays stacked."""
    import mne
    from mne.decoding import ReceptiveField, TimeDelayingRidge

    mne.set_log_level("ERROR")
    hg, t, words, speech, _, audio = frame_session(1)
    audio = (audio - audio.mean(0)) / audio.std(0)
    alpha = 1e3
    st = FrameSettings(lags_ms=(0,), context=(0, 1, 2, 3, 4), n_perm=0, n_shift=0,
                       margin_s=0.0, length_s=3.0, ridge_alphas=(alpha,))
    res, ours = timed(lambda: evaluate_frames(hg, t, words, list(map(str, range(N_CHANNELS))),
                                              speech, st, features=audio))
    frames = np.searchsorted(t, res.frame_times - 1e-9).reshape(N_WORDS, -1)
    X, Y = audio[frames].transpose(1, 0, 2), hg[frames].transpose(1, 0, 2)   # (time, epoch, ·)
    ref_pred = np.full(res.measured.shape, np.nan)
    spent = 0.0
    for word in range(n_ref_folds):
        train = np.arange(N_WORDS) != word
        rf = ReceptiveField(-0.04, 0.0, 100.0, estimator=TimeDelayingRidge(
            -0.04, 0.0, 100.0, alpha=alpha, fit_intercept=True))
        start = time.perf_counter()
        rf.fit(X[:, train], Y[:, train])
        ref_pred[res.trial == word] = rf.predict(X[:, [word]])[:, 0]
        spent += time.perf_counter() - start
    seen = res.trial < n_ref_folds
    r_ours = pearson(res.measured[seen], res.predicted["ridge"][seen], 0)
    r_ref = pearson(res.measured[seen], ref_pred[seen], 0)
    line("lagged ridge vs MNE ReceptiveField (5 delays × 23, 120 ch)", ours,
         spent / n_ref_folds * N_WORDS,
         f"median |Δr| {np.nanmedian(np.abs(r_ours - r_ref)):.3f} (MNE: unscaled, zero edges)",
         f"MNE timed on {n_ref_folds} folds, extrapolated")


#: Permutations actually run per family.
PERMS_TIMED = {"fastText": 1000, "GPT-2": 1000, "XLS-R": 1000}
#: (label, models, ridge_scale, pca_fit) of each timed run; XLS-R-like features go
#: through a PCA keeping 90 % of the variance, fit on all trials in the paper.
RUNS = (("elasticnet (paper)", ("elasticnet",), "train", "all"),
        ("elasticnet, PCA in-fold", ("elasticnet",), "train", "train"),
        ("ridge, scale all", ("ridge",), "all", "train"),
        ("ridge, scale train", ("ridge",), "train", "train"))


def one_participant(family, settings, seed=0):
    """protocol.evaluate on one simulated participant (``seed``): (start, end) of the
    call in wall-clock seconds since the epoch (comparable across processes), mean
    support. The compiled path is loaded first (about 0.3 s a process from numba's cache,
    a minute to compile), so the time is the engine's."""
    z, Y = participant(seed)
    X = embeddings(family, z, seed)
    words = pd.DataFrame({"trial": np.arange(N_WORDS),
                          "word": [f"w{i:03d}" for i in range(N_WORDS)]})
    loo_enet(np.eye(5, 3), np.eye(5, 2), 1.0, 0.5)    # compiled (or loaded from the cache)
    start = time.time()
    res = evaluate(X, Y, words.word.values, [f"c{i}" for i in range(N_CHANNELS)], words,
                   settings)
    end = time.time()
    support = res.words.n_nonzero.mean() / N_CHANNELS if "n_nonzero" in res.words else None
    return start, end, support


def at_once(jobs, tasks):
    """Run the tasks (family, settings, seed) through :func:`one_participant`, ``jobs``
    at a time, one process each (as ``snakemake --cores jobs`` runs the ``encode``
    jobs): their (start, end, support)."""
    if jobs == 1:
        return [one_participant(*task) for task in tasks]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(one_participant, *zip(*tasks)))


def wall(runs):
    """Seconds from the first start to the last end."""
    return max(r[1] for r in runs) - min(r[0] for r in runs)


def mean_support(runs):
    supports = [r[2] for r in runs]
    return None if None in supports else float(np.mean(supports))


def paper_protocol(n_perm, target_perm, n_subjects, families, jobs=1, runs=RUNS):
    """protocol.evaluate with the paper's ElasticNet (+ intercept and paper-score null),
    the same with the XLS-R PCA fit inside the folds, and the ridge baseline in its two
    scalings, ``jobs`` participants at once. The paper's ElasticNet runs all
    ``n_subjects`` participants (seeds 0, 1, ...) of every family as one set of jobs:
    its total is their wall time. The other runs time ``jobs`` copies of participant 0
    per family and scale to ``n_subjects``. Every run uses ``n_perm`` (or PERMS_TIMED)
    permutations, scaled to ``target_perm`` (the cost is linear in the number of target
    columns)."""
    print(f"paper protocol (100 words, 120 channels), {target_perm} permutations × "
          f"{n_subjects} participants, {jobs} participant(s) at once; the paper's "
          f"ElasticNet on {n_subjects} different participants per family, all "
          f"{n_subjects * len(families)} jobs in one queue; the other runs on one "
          f"participant and scaled", flush=True)

    def settings(family, models, ridge_scale, pca_fit):
        return Settings(n_perm=n_perm or PERMS_TIMED[family],
                        pca_variance=0.9 if family == "XLS-R" else None, models=models,
                        ridge_scale=ridge_scale, pca_fit=pca_fit)

    def report(family, label, seconds, support, what):
        perms = n_perm or PERMS_TIMED[family]
        extra = "" if support is None else f"   mean support per channel and fold {support:.2f}"
        print(f"  {family:<9} {label:<24} {seconds:8.2f} s {what} with {perms:4d} "
              f"permutations → {seconds * (target_perm + 1) / (perms + 1):8.1f} s at "
              f"{target_perm}{extra}", flush=True)

    total, paper = {}, {}
    for label, models, ridge_scale, pca_fit in runs:
        if label == "elasticnet (paper)":
            tasks = [(family, settings(family, models, ridge_scale, pca_fit), seed)
                     for family in families for seed in range(n_subjects)]
            done = at_once(jobs, tasks)
            for family in families:
                mine = [r for t, r in zip(tasks, done) if t[0] == family]
                seconds = [r[1] - r[0] for r in mine]
                report(family, label, np.mean(seconds), mean_support(mine),
                       "per participant (one process's time)")
                paper[family] = sum(seconds) / jobs / n_subjects     # its share of the wall
            perms = {n_perm or PERMS_TIMED[f] for f in families}
            assert len(perms) == 1, "the paper run takes one number of permutations"
            total[label] = wall(done) * (target_perm + 1) / (perms.pop() + 1)
            continue
        for family in families:
            perms = n_perm or PERMS_TIMED[family]
            if family in paper and label == "elasticnet, PCA in-fold":   # no PCA: the
                total[label] = total.get(label, 0.0) + paper[family] * n_subjects * (
                    (target_perm + 1) / (perms + 1))                     # paper's run
                continue
            done = at_once(jobs, [(family, settings(family, models, ridge_scale, pca_fit),
                                   0)] * jobs)
            seconds = wall(done) / jobs
            report(family, label, seconds, mean_support(done), "per participant")
            total[label] = total.get(label, 0.0) + seconds * n_subjects * (
                (target_perm + 1) / (perms + 1))
    for label, seconds in total.items():
        print(f"  total, {n_subjects} participants × {len(families)} families × {target_perm} "
              f"permutations, {label}: {seconds:8.1f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer folds and permutations")
    parser.add_argument("--n-perm", type=int, default=0,
                        help="permutations actually run per participant (scaled to 1000); "
                             "default: PERMS_TIMED")
    parser.add_argument("--only-paper", action="store_true",
                        help="only the paper protocol, not the comparisons")
    parser.add_argument("--runs", default="",
                        help="only the paper-protocol runs whose label starts with this "
                             "(e.g. 'elasticnet (paper)')")
    parser.add_argument("--jobs", type=int, default=1,
                        help="participants of the paper protocol run at once, one process each")
    args = parser.parse_args()
    model = next((ln.split(":", 1)[1].strip() for ln in subprocess.run(
        ["lscpu"], capture_output=True, text=True).stdout.splitlines()
                  if ln.startswith("Model name")), platform.processor())
    print(f"hardware: {model}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}; numpy backend, float64", flush=True)
    folds = 2 if args.quick else 4
    if not args.only_paper:
        frame_enet_vs_sklearn(folds)
        trial_enet_vs_references(10 if args.quick else 30, folds)
        trial_ridge_vs_sklearn(folds)
        trial_ridge_vs_himalaya(1 if args.quick else 2)
        lagged_vs_mne(folds)
    paper_protocol(10 if args.quick else args.n_perm, 1000, 10, ("fastText", "GPT-2", "XLS-R"),
                   args.jobs, [r for r in RUNS if r[0].startswith(args.runs)])


if __name__ == "__main__":
    main()
