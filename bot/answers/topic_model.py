"""The topic model: a linear classifier learned from the content's example questions.

Trained with scikit-learn (imported only here, inside :func:`train`), then exported to plain
numpy arrays: the feature vocabulary, its idf weights, a coefficient matrix (float32) and the
intercepts. Answering a question needs only :func:`features` (the same function training
uses, so the two cannot drift), a sparse dot product and a softmax: no sklearn, no scipy.

Features, over the :mod:`textnorm` keys of the words (so Kazakh in Latin letters or without
the Kazakh letters meets the Cyrillic examples): character n-grams of 2–5 letters inside each
word (with its edges marked, like sklearn's ``char_wb``), the words themselves, pairs of
neighbouring words, and the plain Latin form of Latin words. Values are sublinear term
frequencies times idf, L2-normalised.

Classes are topic slugs plus :data:`OUT_OF_SCOPE`. The model is kept on disk keyed by a hash
of everything it was trained on and :data:`MODEL_VERSION`; a missing, stale or broken file is
rebuilt (see :func:`obtain`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.shared.textnorm import READ_CHARS, Token, tokenize

log = logging.getLogger(__name__)

MODEL_VERSION = 3  # bump when features, training or the file layout change
OUT_OF_SCOPE = "~out-of-scope"  # the class of questions the bot does not answer
CHAR_MIN, CHAR_MAX = 2, 5
MAX_CLASSES = 400  # beyond this many topics the model is not trained (the index alone answers)
C = 10.0  # inverse regularisation of the logistic regression (the topic model)
LANG_C = 3.0  # ... of the language model, whose three classes share most n-grams
MIN_DF = 1

Samples = Sequence[tuple[str, str]]  # (text, class)


def features(tokens: Sequence[Token]) -> dict[str, float]:
    """Feature counts of a tokenized text: shared by training and answering."""
    counts: dict[str, float] = {}
    get = counts.get
    prev = ""
    for tok in tokens:
        k = tok.key
        if not k:
            continue
        w = "w" + k
        counts[w] = get(w, 0.0) + 1.0
        if prev:
            b = "b" + prev + " " + k
            counts[b] = get(b, 0.0) + 1.0
        prev = k
        if tok.latin and tok.latin != k:
            lat = "l" + tok.latin
            counts[lat] = get(lat, 0.0) + 1.0
        padded = " " + k + " "
        size = len(padded)
        for n in range(CHAR_MIN, CHAR_MAX + 1):
            if n > size:
                break
            for i in range(size - n + 1):
                c = padded[i : i + n]
                counts[c] = get(c, 0.0) + 1.0
    return counts


Words = Callable[[str], Sequence[Token]]  # a text's words as the model reads them


def plain_words(text: str) -> Sequence[Token]:
    return tokenize((text or "")[:READ_CHARS])


@dataclass(frozen=True)
class TopicModel:
    """The exported model: ``vocab`` maps a feature to its column."""

    classes: tuple[str, ...]
    vocab: dict[str, int]
    idf: npt.NDArray[np.float32]
    coef: npt.NDArray[np.float32]  # (features, classes): one row read per feature present
    intercept: npt.NDArray[np.float32]
    key: str = ""

    def probabilities(self, tokens: Sequence[Token]) -> dict[str, float]:
        """Probability of each class for a tokenized question."""
        counts = features(tokens)
        cols: list[int] = []
        vals: list[float] = []
        vocab = self.vocab
        for f, n in counts.items():
            j = vocab.get(f)
            if j is not None:
                cols.append(j)
                vals.append(1.0 + math.log(n))
        logits = self.intercept.astype(np.float64)
        if cols:
            idx = np.fromiter(cols, dtype=np.int64, count=len(cols))
            x = np.fromiter(vals, dtype=np.float64, count=len(vals)) * self.idf[idx]
            x /= math.sqrt(float(x @ x)) or 1.0
            logits = logits + x @ self.coef[idx]
        logits -= logits.max()
        p = np.exp(logits)
        p /= p.sum()
        return dict(zip(self.classes, p.tolist(), strict=True))

    # -- on disk --
    def save(self, path: Path) -> None:
        """Written to a temporary file first, then renamed: readers never see half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(self.vocab, key=self.vocab.__getitem__)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    version=np.array([MODEL_VERSION]),
                    key=np.array([self.key]),
                    classes=np.array(self.classes),
                    vocab=np.array(names),
                    idf=self.idf,
                    coef=self.coef,
                    intercept=self.intercept,
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, key: str) -> TopicModel | None:
        """The model stored at ``path`` if it is whole and was trained for ``key``."""
        try:
            with np.load(path, allow_pickle=False) as f:
                if int(f["version"][0]) != MODEL_VERSION or str(f["key"][0]) != key:
                    return None
                names = f["vocab"].tolist()
                model = cls(
                    classes=tuple(f["classes"].tolist()),
                    vocab={name: i for i, name in enumerate(names)},
                    idf=f["idf"].astype(np.float32),
                    coef=f["coef"].astype(np.float32),
                    intercept=f["intercept"].astype(np.float32),
                    key=key,
                )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("topic model cache %s is unreadable (%s): training again", path, exc)
            return None
        n_feat, n_cls = model.coef.shape
        if (len(model.classes) != n_cls or len(model.vocab) != n_feat
                or model.idf.shape != (n_feat,) or model.intercept.shape != (n_cls,)):
            log.warning("topic model cache %s is inconsistent: training again", path)
            return None
        return model


def samples_key(samples: Samples, salt: str = "") -> str:
    """A hash of everything the model learns from, and of how it learns (``salt``: what else
    shapes the words it reads, such as the country names left out)."""
    h = hashlib.sha256(
        f"v{MODEL_VERSION} C{C} df{MIN_DF} {CHAR_MIN}-{CHAR_MAX} {salt}\n".encode())
    for text, label in samples:
        h.update(label.encode())
        h.update(b"\x1f")
        h.update(text.encode())
        h.update(b"\x1e")
    return h.hexdigest()


def train(
    samples: Samples, key: str = "", words: Words = plain_words, c: float | None = None
) -> TopicModel:
    """Learn the model from (text, class) pairs, each text read by ``words`` (the function
    the analyzer reads questions with). Imports scikit-learn: training time only."""
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    rows = [features(words(text)) for text, _ in samples]
    df: dict[str, int] = {}
    for row in rows:
        for f in row:
            df[f] = df.get(f, 0) + 1
    names = sorted(f for f, n in df.items() if n >= MIN_DF)
    vocab = {f: i for i, f in enumerate(names)}
    n_docs = len(rows)
    idf = np.array([math.log((1 + n_docs) / (1 + df[f])) + 1.0 for f in names], dtype=np.float64)
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for row in rows:
        cols = [vocab[f] for f in row if f in vocab]
        vals = np.array([1.0 + math.log(row[f]) for f in row if f in vocab]) * idf[cols]
        norm = math.sqrt(float(vals @ vals)) or 1.0
        indices.extend(cols)
        data.extend((vals / norm).tolist())
        indptr.append(len(indices))
    x = csr_matrix((data, indices, indptr), shape=(n_docs, len(names)), dtype=np.float64)
    labels = [label for _, label in samples]
    classes = sorted(set(labels))
    # saga works on the sparse matrix as it is: lbfgs took ~400 MB more and 10x the time
    clf = LogisticRegression(C=c or C, max_iter=300, tol=1e-3, solver="saga", random_state=0)
    clf.fit(x, labels)
    assert list(clf.classes_) == classes
    coef = np.ascontiguousarray(clf.coef_.T, dtype=np.float32)
    intercept = clf.intercept_.astype(np.float32)
    if len(classes) == 2:  # a binary model has one column: spell out both classes
        coef = np.ascontiguousarray(np.hstack([-coef / 2, coef / 2]), dtype=np.float32)
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return TopicModel(tuple(classes), vocab, idf.astype(np.float32), coef, intercept, key)


# Models this process trained or read lately, by key: a store built again from the same
# content (tests, benchmarks, a restart of the dispatcher) does not train again. Immutable.
_RECENT: dict[str, TopicModel] = {}
RECENT_LIMIT = 4


def _remember(model: TopicModel) -> TopicModel:
    if len(_RECENT) >= RECENT_LIMIT:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[model.key] = model
    return model


CACHE_NAME = "topic-model.npz"  # the topic model's file; the language model's is
LANG_CACHE_NAME = "language-model.npz"


def obtain(
    samples: Samples, cache_dir: Path | None, words: Words = plain_words, salt: str = "",
    name: str = "topic-model", c: float | None = None,
) -> TopicModel | None:
    """The model for these samples: from the cache when it holds it, else trained (and then
    cached). None when there is nothing to tell apart or too much to train."""
    classes = {label for _, label in samples}
    if len(classes) < 2 or len(classes) > MAX_CLASSES:
        if len(classes) > MAX_CLASSES:
            log.info("%d topics: the topic model is not trained, the index answers alone",
                     len(classes))
        return None
    key = samples_key(samples, f"{salt} C{c}")
    path = cache_dir / f"{name}.npz" if cache_dir is not None else None
    model = _RECENT.get(key)
    if model is not None:
        if path is not None and not path.is_file():  # a new cache dir still gets the file
            _save(model, path)
        return model
    if path is not None:
        model = TopicModel.load(path, key)
        if model is not None:
            return _remember(model)
    model = _remember(train(samples, key, words, c))
    if path is not None:
        _save(model, path)
    return model


def _save(model: TopicModel, path: Path) -> None:
    try:
        model.save(path)
    except OSError as exc:
        log.warning("topic model cache %s cannot be written: %s", path, exc)


def iter_samples(
    topics: Iterable[tuple[str, Iterable[str]]], out_of_scope: Iterable[str]
) -> list[tuple[str, str]]:
    """(text, class) pairs from each topic's texts and the out-of-scope examples."""
    out = [(text, slug) for slug, texts in topics for text in texts]
    out += [(text, OUT_OF_SCOPE) for text in out_of_scope]
    return out
