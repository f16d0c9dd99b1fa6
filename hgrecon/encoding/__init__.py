"""Cross-validated encoding models: the solvers and the protocols built on them.

``run`` is what the ``encode`` rule calls (trial-level protocol, :mod:`.protocol`),
``run_frames`` what the ``encode_frames`` rule calls (time-resolved, :mod:`.frames`);
both one subject × one feature set, both on the same solvers (:mod:`.ridge`,
:mod:`.elasticnet`, :mod:`.kernel`, :mod:`.moments`) and array backends (:mod:`.backend`).
"""

import numpy as np

from ..io import read_checked, read_parquet, read_words, write_h5, write_parquet
from .frames import FrameResult, FrameSettings, evaluate_frames
from .protocol import Result, Settings, evaluate

__all__ = ["Result", "Settings", "evaluate", "run", "settings_from_config", "META_COLUMNS",
           "FrameResult", "FrameSettings", "evaluate_frames", "run_frames",
           "frame_settings_from_config"]

#: Columns of the trials table that are not channels.
META_COLUMNS = ("trial", "word", "onset_s")


def _alpha_grid(encoding):
    grid = encoding["ridge_alpha_grid"]
    return tuple(np.logspace(np.log10(grid["low"]), np.log10(grid["high"]), grid["n"]))


def settings_from_config(encoding, feature_spec):
    """Build :class:`Settings` from the config's ``encoding`` block and a feature spec."""
    return Settings(
        n_perm=encoding["n_perm"], seed=encoding["seed"],
        enet_alpha=encoding["enet_alpha"], enet_l1_ratio=encoding["enet_l1_ratio"],
        ridge_alphas=_alpha_grid(encoding), pca_variance=feature_spec.get("pca_variance"),
        pca_fit=encoding["pca_fit"], tol=encoding["enet_tol"],
        ridge_scale=encoding["ridge_scale"], backend=encoding["backend"])


def frame_settings_from_config(frames, encoding, trials, feature_spec):
    """Build :class:`FrameSettings` from the config's ``frames``, ``encoding`` (penalty
    grid, ElasticNet parameters) and ``trials`` (window) blocks and a feature spec."""
    return FrameSettings(
        lags_ms=tuple(frames["lags_ms"]), context=tuple(frames["context"]),
        paint=frames["paint"], start_s=trials["start_s"], length_s=trials["length_s"],
        margin_s=frames["margin_s"], speech_db=frames["speech_db"], folds=frames["folds"],
        inner_folds=frames["inner_folds"], models=tuple(frames["models"]),
        n_perm=frames["n_perm"], n_shift=frames["n_shift"], seed=frames["seed"],
        ridge_alphas=_alpha_grid(encoding), enet_alpha=encoding["enet_alpha"],
        enet_l1_ratio=encoding["enet_l1_ratio"], tol=encoding["enet_tol"],
        pca_variance=feature_spec.get("pca_variance"), pca_fit=encoding["pca_fit"],
        backend=frames["backend"])


def run(trials_parquet, features_h5, out_channels, out_words, out_null, settings):
    """Encode one subject's trial-mean high-gamma from one feature file.

    Writes the per-channel table (``out_channels``), the per-word paper scores
    (``out_words``) and the permutation null of the paper score (``out_null``).
    """
    from ..embeddings import load_features

    trials = read_parquet(trials_parquet)
    channels = [c for c in trials.columns if c not in META_COLUMNS]
    X = load_features(features_h5, trials)
    res = evaluate(X, trials[channels].to_numpy(float), trials["word"].to_numpy(),
                   channels, trials, settings)
    meta = {"n_features": X.shape[1], "pca_variance": settings.pca_variance,
            "pca_fit": settings.pca_fit if settings.pca_variance else "none"}
    write_parquet(res.channels.assign(**meta), out_channels)
    write_parquet(res.words, out_words)
    write_parquet(res.null, out_null)


def run_frames(highgamma_h5, ingest_h5, words_parquet, features_h5, out_parquet, out_pred_h5,
               settings, *, frame_features):
    """Time-resolved encoding of one subject from one feature.

    frame_features : the feature file holds frame-level ``vectors`` (n_frames, d) on the
    high-gamma frames (:func:`hgrecon.embeddings.frame_features`); else it is a word- or
    trial-scope feature file, painted on the frames. Writes the per model × channel ×
    lag table (``out_parquet``) and the held-out predictions at each channel's best lag
    with the measured frames (``out_pred_h5``).
    """
    from ..align import speech_frames
    from ..embeddings import load_features
    from ..errors import InputError

    hg, _ = read_checked(highgamma_h5, ["hg", "frame_times", "channels"])
    ingest, attrs = read_checked(ingest_h5, ["audio"], ["audio_sfreq"])
    words = read_words(words_parquet)
    channels = [str(c) for c in hg["channels"]]
    has_audio = ingest["audio"].size > 0
    speech = (speech_frames(ingest["audio"], attrs["audio_sfreq"], hg["frame_times"],
                            settings.speech_db) if has_audio
              else np.zeros(len(hg["frame_times"]), dtype=bool))
    if settings.paint == "speech" and not has_audio:
        raise InputError(ingest_h5, "frames.paint: speech needs the recording's audio, "
                                    "and this recording has none")
    kwargs = {}
    if frame_features:
        feats, _ = read_checked(features_h5, ["vectors"])
        kwargs["features"] = feats["vectors"]
        if len(kwargs["features"]) != len(hg["frame_times"]):
            raise InputError(features_h5, f"{len(kwargs['features'])} feature frames for "
                                          f"{len(hg['frame_times'])} high-gamma frames")
    else:
        kwargs["vectors"] = load_features(features_h5, words)
    res = evaluate_frames(hg["hg"], hg["frame_times"], words, channels, speech, settings,
                          **kwargs)
    n_features = next(iter(kwargs.values())).shape[1]
    write_parquet(res.table.assign(n_features=n_features, paint=settings.paint,
                                   n_trials=len(words)), out_parquet)
    arrays = {"measured": res.measured, "frame_times": res.frame_times,
              "trial": words["trial"].to_numpy()[res.trial],
              "word": words["word"].to_numpy()[res.trial], "speech": res.speech,
              "channels": np.array(channels), "lags_ms": np.asarray(settings.lags_ms, float)}
    for model in res.predicted:
        arrays[f"predicted_{model}"] = res.predicted[model]
        arrays[f"best_lag_ms_{model}"] = res.best_lag_ms[model]
    write_h5(out_pred_h5, arrays, {"models": list(res.predicted), "paint": settings.paint,
                                   "frame_features": bool(frame_features)})
