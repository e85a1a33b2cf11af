"""The topic model: trained on the content's examples, cached on disk, taught at run time, and
not needing scikit-learn to answer."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answers import topic_model
from bot.answers.store import ContentStore
from bot.shared.textnorm import tokenize
from tests.kit import CONTENT, ROOT

NONSENSE = "frobnicate the quuxberry plugh"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def forgetful(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process forgets the models it trained, so the disk cache is what is tested."""
    monkeypatch.setattr(topic_model, "_RECENT", {})


@pytest.fixture(scope="module")
def store(cache: Path) -> ContentStore:
    return ContentStore.from_files(CONTENT, cache_dir=cache)


def test_the_store_answers_with_a_trained_model(store: ContentStore) -> None:
    model = store.index.model
    assert model is not None
    assert set(model.classes) >= set(store.topics)
    assert store.index.analyze("my passport was stolen in Spain").topic == "lost-passport"
    probabilities = model.probabilities(tokenize("виза в Германию"))
    assert abs(sum(probabilities.values()) - 1.0) < 1e-4


def test_the_model_is_loaded_from_the_cache_not_trained_again(
    store: ContentStore, cache: Path, monkeypatch: pytest.MonkeyPatch, forgetful: None
) -> None:
    assert (cache / topic_model.CACHE_NAME).is_file()
    assert (cache / topic_model.LANG_CACHE_NAME).is_file()

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained again although the cache holds the model")

    monkeypatch.setattr(topic_model, "train", no_training)
    again = ContentStore.from_files(CONTENT, cache_dir=cache)
    assert again.index.model is not None
    assert again.index.model.key == store.index.model.key  # type: ignore[union-attr]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_broken_cache_file_is_ignored_and_rebuilt(
    store: ContentStore, cache: Path, tmp_path: Path, damage: str, forgetful: None
) -> None:
    path = tmp_path / topic_model.CACHE_NAME
    model = store.index.model
    assert model is not None
    model.save(path)
    shutil.copy(cache / topic_model.LANG_CACHE_NAME, tmp_path)  # only the topic model is broken
    whole = path.read_bytes()
    path.write_bytes({"truncated": whole[: len(whole) // 2], "garbage": b"\x00not a model" * 50,
                      "empty": b""}[damage])
    rebuilt = ContentStore.from_files(CONTENT, cache_dir=tmp_path)
    assert rebuilt.index.model is not None
    assert rebuilt.index.analyze("how do I renew my passport").topic == "passport-renewal"
    assert topic_model.TopicModel.load(path, rebuilt.index.model.key) is not None  # rewritten


def test_a_cache_for_other_content_is_not_used(store: ContentStore, tmp_path: Path) -> None:
    model = store.index.model
    assert model is not None
    model.save(tmp_path / topic_model.CACHE_NAME)
    assert topic_model.TopicModel.load(tmp_path / topic_model.CACHE_NAME, "other") is None


def test_learn_teaches_a_topic_and_out_of_scope_without_restart(cache: Path) -> None:
    store = ContentStore.from_files(CONTENT, cache_dir=cache)
    before = store.index
    assert store.index.analyze(NONSENSE).topic != "kandas"

    asyncio.run(store.learn([
        (NONSENSE, "en", "kandas"),
        ("frobnicate my quuxberry please", "en", "kandas"),
        ("plugh quuxberry frobnicate", "en", "kandas"),
    ]))
    assert store.index is not before  # swapped whole, the old one untouched
    assert before.model is not store.index.model
    assert store.index.analyze(NONSENSE).topic == "kandas"
    assert len(store.taught) == 3

    poem = "write me a sonnet about autumn leaves"
    asyncio.run(store.learn([(poem, "en", None), ("compose a sonnet about the sea", "en", None),
                             ("a sonnet about spring please", "en", None)]))
    assert store.index.analyze(poem).topic is None
    assert store.index.analyze(NONSENSE).topic == "kandas"  # what was taught before stays


def test_taught_examples_at_load_and_for_removed_topics(cache: Path) -> None:
    taught = [(NONSENSE, "en", "kandas"), ("frobnicate my quuxberry", "en", "kandas"),
              ("quuxberry plugh", "en", "kandas"), ("something", "en", "no-such-topic")]
    store = ContentStore.from_files(CONTENT, cache_dir=cache, taught=taught)
    assert store.index.analyze(NONSENSE).topic == "kandas"
    assert all(label != "no-such-topic" for _, label in store.samples(taught))


def test_concurrent_lessons_are_all_kept(cache: Path) -> None:
    store = ContentStore.from_files(CONTENT, cache_dir=cache)

    async def both() -> None:
        await asyncio.gather(store.learn([("alpha quuxberry", "en", "kandas")]),
                             store.learn([("beta quuxberry", "en", "kandas")]))

    asyncio.run(both())
    assert sorted(t for t, _, _ in store.taught) == ["alpha quuxberry", "beta quuxberry"]


def test_answering_from_a_warm_cache_does_not_import_sklearn(cache: Path,
                                                             forgetful: None) -> None:
    ContentStore.from_files(CONTENT, cache_dir=cache)  # the cache holds the shipped content's
    code = (
        "import sys; from pathlib import Path; from bot.answers.store import ContentStore; "
        f"s = ContentStore.from_files(Path({str(CONTENT)!r}), cache_dir=Path({str(cache)!r})); "
        "a = s.index.analyze('passport lost'); "
        "print(s.index.model is not None, 'sklearn' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "False", "False"]
