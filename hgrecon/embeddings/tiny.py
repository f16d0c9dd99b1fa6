"""Small inputs for the tests and the benchmarks, built locally without downloads.

Randomly initialised checkpoints: each builder writes a directory with
``save_pretrained`` (or a fastText file) that the ordinary loading path reads like any
real checkpoint. Stage inputs: a subject's words table and trial audio file, in the
formats of ``results/ingest`` and ``results/trials``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ..io import write_h5, write_parquet

#: A few Dutch words to train the tiny tokenizers and fastText model on.
DUTCH = ("de het een en in op hond kat koe paard vogel vis fiets auto bus trein boot huis "
         "boom water vuur zon maan straat tafel stoel kast appel peer kinderen spelen lopen "
         "zwemmen fietsen rood groen blauw groot klein").split()

#: Wav2Vec2Config overrides of :func:`wav2vec2` by default: two layers of 32 units with
#: XLS-R's architecture (stable layer norm, layer-normed convolutional encoder).
TINY_WAV2VEC2 = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                     num_conv_pos_embedding_groups=2, do_stable_layer_norm=True,
                     feat_extract_norm="layer")


def bpe_tokenizer(words=DUTCH, vocab_size=320):
    """GPT-2-style byte-level BPE tokenizer trained on ``words`` (a fast tokenizer)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([" ".join(words)] * 5, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                   eos_token="<|endoftext|>")


def wordpiece_tokenizer(words=DUTCH, vocab_size=160):
    """BERT-style lowercasing WordPiece tokenizer that adds [CLS] and [SEP]."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator([" ".join(words)] * 5,
                            trainers.WordPieceTrainer(vocab_size=vocab_size,
                                                      special_tokens=special))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[(s, tok.token_to_id(s)) for s in special[2:4]])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def gpt2(path, n_layer=2, n_embd=32, n_head=2, seed=0):
    """A random GPT-2 (``GPT2LMHeadModel``) with a BPE tokenizer, saved in ``path``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = bpe_tokenizer()
    eos = tokenizer.eos_token_id
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config(n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                                       n_positions=128, vocab_size=len(tokenizer),
                                       bos_token_id=eos, eos_token_id=eos))
    return _save(path, model, tokenizer)


def bert(path, hidden_size=32, num_hidden_layers=2, seed=0):
    """A random masked LM (``BertForMaskedLM``) with a WordPiece tokenizer, in ``path``."""
    import torch
    from transformers import BertConfig, BertForMaskedLM

    tokenizer = wordpiece_tokenizer()
    torch.manual_seed(seed)
    model = BertForMaskedLM(BertConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size,
        num_hidden_layers=num_hidden_layers, num_attention_heads=2,
        intermediate_size=2 * hidden_size, max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id))
    return _save(path, model, tokenizer)


def wav2vec2(path, config=None, seed=0):
    """A random ``Wav2Vec2Model`` and a 16 kHz normalising feature extractor, in ``path``.

    config : Wav2Vec2Config overrides (default :data:`TINY_WAV2VEC2`; ``{}`` gives the
    wav2vec2-base sizes).
    """
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    torch.manual_seed(seed)
    model = Wav2Vec2Model(Wav2Vec2Config(**(TINY_WAV2VEC2 if config is None else config)))
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000,
                                         padding_value=0.0, do_normalize=True,
                                         return_attention_mask=False)
    return _save(path, model, extractor)


def fasttext(folder, dim=16, seed=1):
    """(path.bin, path.vec): a fastText model trained on sentences of :data:`DUTCH`."""
    from gensim.models import FastText
    from gensim.models.fasttext import save_facebook_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sentences = [DUTCH[i:i + 8] for i in range(0, len(DUTCH), 4)] * 10
    model = FastText(vector_size=dim, window=3, min_count=1, min_n=3, max_n=5, bucket=2000,
                     seed=seed, workers=1)
    model.build_vocab(sentences)
    model.train(sentences, total_examples=len(sentences), epochs=5)
    save_facebook_model(model, str(folder / "tiny.bin"))
    model.wv.save_word2vec_format(str(folder / "tiny.vec"))
    return folder / "tiny.bin", folder / "tiny.vec"


def words_file(path, words, trials=None):
    """Write a words table (``trial, word, onset_s, sample``) for ``words`` to ``path``."""
    trials = np.arange(len(words)) if trials is None else np.asarray(trials)
    write_parquet(pd.DataFrame({"trial": trials, "word": list(words),
                                "onset_s": 3.0 * np.arange(len(words)),
                                "sample": 3072 * np.arange(len(words))}), path)
    return Path(path)


def trial_audio_file(path, audio, words, sfreq=16000.0):
    """Write trial audio (n_trials, n_samples) for trials 0.. with ``words`` to ``path``."""
    write_h5(path, {"audio": np.asarray(audio, dtype=np.float32),
                    "trial": np.arange(len(words)), "word": list(words)},
             {"sfreq": float(sfreq)})
    return Path(path)


def _save(path, model, processor):
    path = Path(path)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
