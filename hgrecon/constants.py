"""Every number of the paper's and the dataset authors' recipe, in one place.

Sources: Verwoert et al. 2022 (SingleWordProductionDutch-iBIDS, feature code) and the
first author's public code for Khanday et al. 2025 (see ``shared/docs``).
"""

#: Neural sampling rate the recipe works at (Hz); recordings at other rates are resampled.
IEEG_SFREQ = 1024.0
#: Microphone rate in the NWB files (Hz).
AUDIO_SFREQ = 48000.0
#: Rate of the trial audio fed to speech models and the mel features (Hz).
SPEECH_SFREQ = 16000.0

#: High-gamma band (Hz), 4th-order zero-phase Butterworth.
HG_BAND = (70.0, 170.0)
HG_ORDER = 4
#: Half-width of the band-stop around each line harmonic inside the band (Hz).
LINE_STOP_HALFWIDTH = 2.0
LINE_FREQ = 50.0

#: Framing of the envelope: 50 ms windows every 10 ms.
WIN_S = 0.05
HOP_S = 0.01

#: The paper's trial: 2.0 s from the cue onset.
TRIAL_START_S = 0.0
TRIAL_LENGTH_S = 2.0

#: Log-mel baseline: 23 bands.
N_MELS = 23

#: The paper's mapping: scikit-learn ElasticNet defaults, unscaled data.
PAPER_ENET_ALPHA = 1.0
PAPER_ENET_L1_RATIO = 0.5
#: PCA variance kept for the flattened XLS-R trial features.
PAPER_PCA_VARIANCE = 0.90
