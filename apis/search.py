"""`search(spec, query, k)`: operations ranked for a task with BM25 over their names and docs.

A small BM25 written here rather than a dependency: a few hundred short documents need no sparse
matrices (bm25s) or numpy (rank-bm25), and field weights, light stemming and action synonyms are
easier to express directly.

`search(spec, query, k, learned=...)` also ranks first what earlier successful tasks worded like this one
called: `learned` is any sequence of `LearnedTask` (a task's words and the operations its run called), as
the caller's memory keeps them (hybrid passes the SQL memory's rows for the site).
"""

from __future__ import annotations

import itertools
import math
import re
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

from apis.model import Operation, Spec

K1 = 1.2
B = 0.75
# How many times a field's words count: the name and summary say most about what an operation does.
FIELD_WEIGHTS = {"name": 3, "summary": 2, "path": 2, "group": 1, "parameters": 1, "description": 1}
DESCRIPTION_CHARS = 300
# A parameter more than this share of the operations take is not indexed (see `_boilerplate_parameters`).
BOILERPLATE_SHARE = 0.2
SYNONYM_WEIGHT = 0.4
# The shortest word a word the spec does not use is split into ("tracklist" -> track, list).
COMPOUND_PART = 3
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "and",
        "or",
        "is",
        "are",
        "be",
        "been",
        "was",
        "were",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "from",
        "as",
        "me",
        "my",
        "i",
        "you",
        "your",
        "we",
        "our",
        "all",
        "any",
        "every",
        "how",
        "many",
        "much",
        "there",
        "their",
        "them",
        "then",
        "than",
        "what",
        "which",
        "who",
        "whose",
        "do",
        "does",
        "did",
        "please",
        "tell",
        "show",
        "find",
        "have",
        "has",
        "had",
        "can",
        "will",
        "would",
        "should",
        "could",
        "some",
        "just",
        "so",
    ]
)
# Words a task uses for an action, mapped to the words specs use for it (and the method it implies).
SYNONYMS = {
    "create": ("add", "post"),
    "add": ("create", "post"),
    "make": ("create",),
    "update": ("edit", "patch", "modify", "change", "set"),
    "edit": ("update", "patch", "modify"),
    "change": ("update", "edit", "set"),
    "set": ("update", "edit", "put"),
    "close": ("edit", "update", "state"),
    "reopen": ("edit", "update", "state"),
    "rename": ("edit", "update"),
    "delete": ("remove", "del"),
    "remove": ("delete", "del"),
    "list": ("get", "all", "search"),
    "get": ("list", "read"),
    "search": ("list", "find", "query"),
    "count": ("list",),
    "comment": ("comments",),
    "label": ("labels",),
    "labelled": ("label",),
    "labeled": ("label",),
    "user": ("users", "member"),
    "repository": ("repo",),
    "repo": ("repository",),
    "star": ("starred",),
    "open": ("create",),
    "new": ("create",),
    "publish": ("create",),
    "send": ("create", "post"),
    "workspace": ("team",),
    "channel": ("conversation",),
    "remind": ("reminder",),
    "webhook": ("hook",),
    "log": ("add", "time"),
    "hour": ("time",),
    "away": ("presence",),
    "status": ("presence", "state"),
    "recommend": ("recommendation",),
    "library": ("saved",),
}
# How people say things, rewritten into the words specs use before the request is scored (applied in
# order). Each stands for a family of requests the benchmarks showed missed.
IDIOMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"\b(?:leave|drop|write|post) a (?:note|comment|reply)\b", "comment create"),
        # Casual words for what specs name plainly; "\g<0> ..." keeps the word and adds the spec's.
        (r"\btake (?:it |this |that )?down\b|\bunpublish\b", "delete"),
        (r"\btake\b(.*?)\b(?:off|out of)\b", r"remove\1from"),  # "take despacito off my playlist"
        (
            (
                r"\bearlier(?= today| this|\W*$)|"
                r"\b(?:last night|yesterday|(?:a (?:while|minute|moment)|minutes|hours) ago)\b"
            ),
            "recent recently",
        ),
        (
            (
                r"\bturn (?:(?:it|this|that|the (?:music|sound|volume)) )?(?:up|down)\b"
                r"(?! the (?!music|sound|volume))|"
                r"\b(?:louder|quieter|softer|volume)\b"
            ),
            "volume set",
        ),
        (r"\b(?:loop|on repeat)\b", "repeat"),
        (r"\b(?:sounds? like|similar to|more like)\b", "related similar"),
        (
            r"\bwhat (?:should|could|can|to) i (?:watch|see|listen to|read|play) next\b|\bnext\b(?=\W*$)",
            "recommendations similar",
        ),
        (
            (
                r"\b(?:buzzing|hot|everyone(?:'s| is) (?:watching|listening to)|"
                r"(?:people|ppl) (?:are )?(?:watching|listening to))\b"
            ),
            "trending",
        ),
        (
            r"\b(?:in|at the) (?:cinemas?|theaters?|theatres?|movies)\b|\bcinemas?\b",
            "now playing theatres theaters",
        ),
        (r"\btonight\b", "today"),
        (r"\b(?:come|came|comes|coming) out\b|\brelease date\b", "release date"),
        (r"\bage rating\b|\brated (?:pg|r|g|12|15|18)\b", "certification release"),
        (r"\b(?:biggest|best[- ]known|greatest hits|most played)\b", "top popular"),
        (
            # Told to, at the start: not "songs like this", "I love this song, who sings it?"
            r"^(?:please )?(?:heart|fave|favou?rite|like|love)\b(?= (?:this|that|it|the)\b)",
            "save",
        ),
        (r"\b(?:speakers?|phone|laptop|computer|headphones)\b", r"\g<0> device"),
        (r"\bpodcasts?\b", r"\g<0> show"),
        (r"\b(?:bpm|tempo|danceability)\b", "audio features tempo"),
        # A direct message goes to a conversation opened with the person first.
        (r"\b(?:dm|direct message|private message)\b", r"\g<0> send message post chat open conversation"),
        (r"^(?:please )?say\b|\bping\b", "send message post chat"),  # "say hi", not "what do they say"
        (  # a message to a channel, unless it is a file
            r"\b(?:post|drop|share)\b(?!.*\bfiles?\b)(?=.*\b(?:in|to|on|into) (?:the )?channel\b)",
            "send message post chat",
        ),
        (
            (
                r"\bwhat (?:happened|went on)\b|\bcatch(?:ing)? (?:me )?up\b|\bscroll ?back\b|"
                r"\bwhat did (?:people|they|we|everyone|folks) (?:say|talk|discuss|post)"
            ),
            "history messages",
        ),
        # The message to change or react to is found in the channel's history first.
        (
            (
                r"\b(?:last|latest|previous|recent) (?:message|msg)\b|"
                r"\b(?:message|msg) i (?:just )?(?:sent|posted|wrote)\b"
            ),
            r"\g<0> history",
        ),
        (r"\b(?:thumbs?[- ]up|react(?:ion)? with|emoji|upvote)\b", "reaction add"),
        (r"\b(?:don'?t (?:bother|disturb)|do not disturb|dnd)\b", "dnd snooze"),
        (r"\bwho(?:'s| is| are)?(?: (?:actually|really|currently|still|even|all))? in\b", "members"),
        (r"\bremind\b", "reminder add"),
        (r"\b(?:jump|skip|fast[- ]forward|rewind|go back) to (?=\d)", "seek position "),
        (r"\bsubscribed to\b", r"\g<0> saved followed"),
        (r"^(?:please )?reply\b|\breply to (?:topic|thread|post)\b", "create post reply"),
        (r"\b(?:approve|lgtm|request changes)\b", r"\g<0> review create"),
        (r"\b(?:ci|checks|pipeline|build) (?:pass|passed|fail|failed|green|red|status)\b", "status commit"),
        (r"\btypo\b|\b(?:fix|reword)\b", "update edit"),
        (r"\bban(?:ned)?\b", "suspend ban"),
        (r"\bmute\b", r"\g<0> silence"),
        (r"\bwhat'?s new\b", "latest"),
        (r"\bthreads?\b", r"\g<0> topic"),
        (r"\bheadquarter\w*\b", "headquarters details"),
        (r"\bfilmography\b|\bwhat else has\b", "credits"),
        (
            (
                r"\b(?:horror|comed(?:y|ies)|thrillers?|romance|romcoms?|sci-?fi|documentar(?:y|ies)|animated|"
                r"westerns?|dramas?|fantasy|crime)\b"
            ),
            r"\g<0> genre discover",
        ),
        (r"\btag(?:ged)?\b(.*?)\bas\b", r"label\1as"),  # "tag issue 7 as a bug" labels it
        # "make my playlist private" changes a thing; "make me a playlist", "make it a new one" create one
        (r"\bmake\b(?= (?:my|the|this|that|it|its|our|your|his|her|their)\b)(?!.*\ban?\b)", "update"),
        (r"\b(?:kill|terminate|nuke|trash|get rid of|throw away|throw out|drop|destroy)\b", "delete"),
        (r"\b(?:how many|how much|number of|count of)\b", "list count"),
        (r"\bmove\b(.*?)\bto\b(?= (?-i:[A-Z]))", r"transition\1to"),  # "move PROJ-1 to Done"
        (r"\bmove\b(.*?)\b(?:over )?to\b", r"transfer\1to"),  # "move acme/app over to the platform org"
        (r"\b(?:shut|resolve)\b", "close"),
        (r"\b(?:cordon|uncordon|taint)\b", "update"),
        (r"\b(?:roll(?:s|ed|ing)? (?:out|back)|rollout|upgrade|bump)\b", "update"),  # a new image, version
        (r"\b(?:stop|keep|prevent)\b(.*?)\bfrom\b", r"update\1"),
        (r"\b(?:evict|evicting|evicted|drain)\b", "eviction create"),
        (r"\b(?:ready|healthy|health)\b", "status"),
        (r"\bdoes \S+ have\b", "user"),  # "what repos does torvalds have": a user's
        (r"\b(?-i:PRs?)\b", "pull request"),
        (r"\b(?:spin up|kick off|launch|set up|(?:(?:open|add|make|start|create) )?an? new)\b", "create"),
        (r"\bship\b", "release create"),
        (r"\b(?:machines?|servers?|hosts?)\b", "node"),
        (r"\bwho follows\b", "followers"),
        (r"\bwrite access\b", "collaborator"),
        (r"\bwatch\b", "watch subscription"),
        (r"\b(?:people|person)\b", "user member person"),
        (r"\bwho\b", "user"),
        (
            (
                r"\b(?:actors?|actress(?:es)?|directors?|directed|cast|crew|starring|"
                r"starred in|acted in|played in|guest stars?)\b"
            ),
            "credits person",
        ),
        (r"\bstarred\b", "stargazers starred"),
        (r"\b(?:singers?|bands?|musicians?)\b", "artist"),
        (r"\b(?:my )?music library\b|\bmy music\b", "my saved library"),  # what the user has saved
        (r"\b(?:songs?|music)\b", "track"),
        (r"\b(?:look like|photos?|pictures?|posters?|cover)\b", "image"),
        (r"\blogos?\b", "logo image"),
    )
)
# Words after which a request's last word, one the spec does not use, is a name ("photos of zendaya").
NAME_BEFORE = frozenset({"of", "by", "for", "from", "about", "like", "with", "directed", "starring"})
# Words that stand for someone already named ("her newest album"), never a name themselves.
PRONOUNS = frozenset(
    {"he", "she", "him", "his", "her", "hers", "they", "their", "theirs", "its", "mine", "yours"}
)
# Words for the person asking, which specs call the current or authenticated user.
SELF_WORDS = frozenset({"i", "me", "my", "mine", "myself", "am"})
SELF_TERMS = ("current", "authenticated", "user")
# The action a task asks for, by the words that say it, and the words an operation's name uses for it.
ACTIONS = {
    "create": (
        "create",
        "add",
        "open",
        "new",
        "make",
        "post",
        "publish",
        "send",
        "upload",
        "start",
        "invite",
        "save",
    ),
    "update": (
        "update",
        "edit",
        "change",
        "set",
        "close",
        "reopen",
        "rename",
        "replace",
        "patch",
        "move",
        "lock",
        "pin",
        "archive",
        "scale",
        "mark",
    ),
    "delete": ("delete", "remove", "del", "clear", "unfollow", "kick", "leave"),
    "read": (
        "list",
        "get",
        "read",
        "show",
        "which",
        "what",
        "who",
        "search",
        "find",
        "view",
        "info",
        "count",
        "fetch",
        "see",
        "look",
    ),
}
METHOD_ACTIONS = {
    "GET": "read",
    "HEAD": "read",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}
# How much an operation's score grows when it does the asked action, and when its resource is the asked
# object.
ACTION_BOOST = 0.35
OBJECT_BOOST = 0.35
# A read returning the collection a request names in the plural ("what repos", "which pods").
COLLECTION_BOOST = 0.25
# A read of what a writing request names, which finds the thing to change.
CHAIN_BOOST = 0.4
# A search for the kind of thing a request names by its title, as a share of the best match's score.
LOOKUP_SHARE = 0.6
# Chains: an operation that needs a thing's id (`/movie/{movie_id}/credits`, `/users/{user_id}/playlists`)
# needs an operation that finds it first, ranked just below it (this share of its score: above the operations
# that nearly tie with it, its siblings for other kinds the request did not ask for): the current user's own
# (`GET /me`) for a user, the user's own collection of that kind when the request says "my", the search
# for that kind (or of everything) when the request names the thing by its title.
# Done for the best few operations, and for what those chosen need in turn.
PROVIDER_SHARE = 0.99
PROVIDER_TARGETS = 3
PROVIDER_DEPTH = 2
# The other way round: a search or list that finds one thing of a kind ("the most popular TV show", "The
# Mandalorian") is followed by a read of that thing (`GET /tv/{tv_id}`, or its credits when the request asks
# about them), ranked just below it (this share of its score), where the request names the kind, in the
# singular (in the plural, the list is the answer).
READER_SHARE = 0.85
# A request about something's own things ("Cate Blanchett's latest TV show"): the site's own collections
# (`/tv/latest`) are scaled by this (the thing's, under its id, gain as a search would).
UNOWNED_FACTOR = 0.5
# Path segments of the operation that returns the user the credentials belong to.
CURRENT_USER_SEGMENTS = frozenset({"me", "myself", "self", "whoami", "user", "current", "currentuser"})
USER_KINDS = frozenset({"user", "account"})


# Names written in a form that says their kind ("#general", "@maria", "sarah@acme.com", "CHANGELOG.md"): the
# kinds they may be, the first the spec uses is taken, and a word added for what the form tells. An operation
# that takes such a thing by id as a parameter (Slack's `channel`, `users`, `file`) ranks what lists or finds
# that kind of thing just below it.
class NamedForm(NamedTuple):
    pattern: re.Pattern[str]
    kinds: tuple[str, ...]
    told: str = ""  # the word the form adds ("email")
    keeps_own_words: bool = False  # "docs/setup.md" is also about setup


NAMED_FORMS = (
    NamedForm(re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), ("user", "member", "account"), "email"),
    NamedForm(re.compile(r"@(?!(?:channel|here|everyone)$)[A-Za-z][\w.-]*"), ("user", "member", "account")),
    NamedForm(re.compile(r"#[A-Za-z][\w.-]*"), ("channel", "tag", "category")),
    NamedForm(
        re.compile(
            # Not a framework's name ("Node.js", "Next.js").
            r"(?![A-Z][\w-]*\.[jt]s$)[\w./-]*\w\.(?:md|rst|txt|py|js|ts|tsx|jsx|json|ya?ml|toml|cfg|ini|go|rs|java|kt|rb|php|c|h|cpp|"
            r"html|css|sh|lock|xml|csv|sql|pdf|png|jpe?g|gif|svg|docx?|xlsx?|pptx?|zip)",
            re.IGNORECASE,
        ),
        ("file", "attachment", "document"),
        "content",
        keeps_own_words=True,
    ),
)
# Learned from runs: a past task at least this similar to the request (cosine of their weighted terms)
# lends its operations a share of the best match's score, as large as the similarity, so a request
# worded as a past one ranks that task's operations first.
LEARNED_SIMILARITY = 0.3
LEARNED_SHARE = 1.0
# Past tasks' understood terms kept per spec (then forgotten all at once).
UNDERSTOOD_KEPT = 4096
# Operations rarely wanted for an everyday task: admin ones (unless asked for) and deprecated ones.
ADMIN_FACTOR = 0.6
DEPRECATED_FACTOR = 0.5
METHOD_WORDS = {
    "GET": "get list read",
    "POST": "create add post",
    "PUT": "update set put",
    "PATCH": "update edit patch",
    "DELETE": "delete remove",
}
_WORD = re.compile(r"[a-z0-9]+")
_QUOTED = re.compile(r"\"([^\"]+)\"|(?<![A-Za-z])'([^']+)'(?![A-Za-z])")
_NAMING = re.compile(r"\b(?:called|named|titled|name it|rename it(?: as)?|name it as)\s*$", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['\u2019]s?$")
_OWNED_BY_THEM = re.compile(r"\b(?:his|her|their)\b", re.IGNORECASE)
_MIXED = re.compile(r"(?=.*[a-zA-Z])(?=.*[0-9])[A-Za-z0-9.]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# What of a request is read: a longer one is a pasted document, and some idioms look ahead across the text
# at each of their words (time that grows with the square of the length).
REQUEST_CHARS = 2000
# Parameters that take what a search looks for, which any request gives.
SEARCH_TEXT = frozenset({"q", "query", "term", "keyword", "search", "text", "name"})
_BY_NAME = re.compile(r"([A-Za-z]*?)_?(?:[Nn]ame|[Ll]ogin|[Ss]lug|[Hh]andle)")
# A user's handle: "john_doe", "spammer123".
_HANDLE = re.compile(r"[a-z][a-z0-9]*_[a-z0-9_]+|[a-z]{3,}[0-9]{2,}", re.IGNORECASE)
_FILE_STEM = re.compile(r"\.[^.]*$")
_ID_SUFFIX = re.compile(r"(?:_ids?|Ids?|IDs?)$")


def tokenize(text: str) -> list[str]:
    words = _WORD.findall(_CAMEL.sub(" ", text).lower())
    return [_stem(w) for w in words if w not in STOPWORDS]


def _stem(word: str) -> str:
    """Plural and -ing/-ed endings off, enough for `issues` to meet `issue`."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class LearnedTask(Protocol):
    """A task a successful run did on the site, with the operations it called (by name or alias)."""

    @property
    def task(self) -> str: ...

    @property
    def operations(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Request:
    """What a request asks for: weighted terms, the action, the things it names by plural, and whether it
    names something by its title ("Titanic", "Mariah Carey", 'My Rock'), which a search must find first."""

    weights: dict[str, float]
    action: str | None
    plurals: frozenset[str]
    names_something: bool
    about_self: bool = False
    # Names something by its title in the possessive ("Cate Blanchett's latest TV show"): what is asked
    # for is that thing's own, read under its id, not the site's (its latest, its most popular).
    names_owner: bool = False
    # The kinds of the things it names with a sigil or an email address ("#general": channel), and whether it
    # names something by a title of no said kind ("Add Priya to #launch": Priya).
    named_kinds: frozenset[str] = frozenset()
    names_untyped: bool = False
    # Names someone by a handle ("john_doe", "spammer123", "user trollface"), which the site reads by name.
    names_handle: bool = False


@dataclass
class SearchIndex:
    operations: list[Operation]
    term_frequencies: list[Counter[str]]
    lengths: list[int]
    document_frequency: Counter[str]
    average_length: float
    actions: list[frozenset[str]]
    resources: list[frozenset[str]]
    factors: list[float]
    # What a lookup operation finds (`GET /search/person` -> {person}; empty for a search of everything),
    # None for the others; whether an operation returns a collection (its path ends in a literal segment).
    lookups: list[frozenset[str] | None]
    # For a lookup, the words of the paths under the kind it finds (`/tv/...`: season, episode, reviews).
    lookup_neighbourhoods: list[frozenset[str]]
    collections: list[bool]
    # Path parameters that scope everything else (Kubernetes' `namespace`, a forge's `owner`): the word
    # after one in a request is its value, not a word to search for.
    scopes: frozenset[str]
    chains: Chains = field(default_factory=lambda: Chains((), None, {}, {}, ()))
    # The spec's whole document, read only when a kind of thing has no other provider (see `_listed_by`).
    load_document: Callable[[], dict[str, Any] | None] | None = None
    _understood: dict[str, dict[str, float]] = field(default_factory=dict)
    _listing: dict[str, list[int]] = field(default_factory=dict)
    _fields: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, spec: Spec) -> SearchIndex:
        shared = _boilerplate_parameters(spec.operations)
        term_frequencies = [Counter(_document_terms(op, shared)) for op in spec.operations]
        lookups = [_lookup_terms(op) for op in spec.operations]
        under: dict[str, set[str]] = {}
        for op in spec.operations:
            literal = [s for s in op.path.lower().split("/") if s and not s.startswith("{")]
            if literal:
                under.setdefault(_stem(literal[0]), set()).update(tokenize(" ".join(literal)))
        lengths = [sum(tf.values()) for tf in term_frequencies]
        document_frequency: Counter[str] = Counter()
        for tf in term_frequencies:
            document_frequency.update(tf.keys())
        return cls(
            spec.operations,
            term_frequencies,
            lengths,
            document_frequency,
            sum(lengths) / max(len(lengths), 1),
            [_operation_actions(op) for op in spec.operations],
            [_resource_terms(op) for op in spec.operations],
            [_rarity_factor(op) for op in spec.operations],
            lookups,
            [_neighbourhood(lookup, under) for lookup in lookups],
            [_returns_collection(op) for op in spec.operations],
            frozenset(_first_path_parameter(op) for op in spec.operations) - {""},
            Chains.build(spec.operations, lookups, shared),
            _document_loader(spec),
        )

    def scores(self, query: str, learned: Sequence[LearnedTask] = ()) -> list[float]:
        request = understand(query, self.document_frequency, self.scopes)
        weights = request.weights
        total = len(self.operations)
        scores = [0.0] * total
        for term, weight in weights.items():
            frequency = self.document_frequency.get(term)
            if not frequency:
                continue
            idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
            for i, tf in enumerate(self.term_frequencies):
                count = tf.get(term)
                if count:
                    norm = K1 * (1 - B + B * self.lengths[i] / self.average_length)
                    scores[i] += weight * idf * count * (K1 + 1) / (count + norm)
        if weights and not any(scores):
            # No word of the request is the spec's ("how long is avatar the way of water"): it names a thing
            # the spec does not, which only a search can find.
            request = replace(request, names_something=True)
        objects = {term for term, weight in weights.items() if weight >= 1}
        wants_admin = "admin" in objects
        best = max(scores, default=0.0) or 1.0  # nothing matched: a named thing is still looked up
        for i, score in enumerate(scores):
            lookup = self.lookups[i]
            if request.names_something and lookup is not None:
                # A thing named by its title is found by a search first: the search for its kind, else
                # the search of everything, else the searches of kinds that have what is asked about
                # (first, when what is asked about is the named thing's own), or any search when the
                # request has no other word the spec uses ("where was keanu reeves born").
                owns_asked = bool(objects & self.lookup_neighbourhoods[i])
                if request.names_owner and owns_asked and not lookup & objects:
                    score += LOOKUP_SHARE * best
                elif not lookup or lookup & objects:
                    owner_factor = UNOWNED_FACTOR if request.names_owner else 1.0  # its own is another kind
                    score += LOOKUP_SHARE * best * (1.0 if lookup else 0.8) * owner_factor
                elif owns_asked or not objects & self.document_frequency.keys():
                    score += LOOKUP_SHARE * best * 0.8
            elif request.names_owner and self._owned_collection(i, objects):
                score += LOOKUP_SHARE * best
            if not score:
                continue
            boost = 1.0 + (ACTION_BOOST if request.action in self.actions[i] else 0.0)
            boost += OBJECT_BOOST if objects & self.resources[i] else 0.0
            site_list = self.collections[i] and lookup is None and not self.chains.id_kinds[i]
            # Not an action the request asks for ("add Taylor Swift's album to my library" saves).
            asked = request.action in self.actions[i] and "read" not in self.actions[i]
            if request.names_owner and site_list and not asked:
                boost *= UNOWNED_FACTOR
            if self.collections[i] and request.plurals & self.resources[i] and "read" in self.actions[i]:
                boost += COLLECTION_BOOST
            elif (
                request.action not in (None, "read")
                and "read" in self.actions[i]
                and objects & self.resources[i]
            ):
                # Changing "my first playlist" starts by reading the playlists: the read is a step too.
                boost += CHAIN_BOOST
            factor = self.factors[i]
            if wants_admin and factor == ADMIN_FACTOR:
                factor = 1.0
            scores[i] = score * boost * factor
        self._add_readers(scores, request)
        self._add_providers(scores, request)
        if learned:
            self._add_learned(scores, request.weights, learned)
        return scores

    def _listed_by(self, kind: str, scores: Sequence[float]) -> int | None:
        """Where nothing finds a kind of thing by itself (TMDB's networks): the read of another thing by id
        whose response lists them (`GET /tv/{tv_id}` has `networks`), the best of those."""
        if kind not in self._listing:
            readers = [
                i
                for found in self.chains.readers.values()
                for i in found
                if kind not in self.chains.id_kinds[i]
            ]
            listing: list[int] = []
            if readers and self.load_document is not None:
                try:
                    document = self.load_document()
                    if isinstance(document, dict):
                        listing = [i for i in readers if kind in self._field_words(document, i)]
                except Exception:  # noqa: BLE001 - a spec's odd document must never make search fail
                    listing = []
            self._listing[kind] = listing  # assigned whole: a search at the same time sees all or nothing
        listing = self._listing.get(kind, [])
        return _best(listing, scores) if listing else None

    def _field_words(self, document: dict[str, Any], i: int) -> frozenset[str]:
        if i not in self._fields:
            self._fields[i] = _response_field_words(document, self.operations[i])
        return self._fields[i]

    def _owned_collection(self, i: int, objects: set[str]) -> bool:
        """Whether operation `i` reads a collection of what is asked for under the id of a thing that can be
        found by title (`GET /person/{person_id}/tv_credits` for "tv")."""
        kinds = self.chains.id_kinds[i]
        return (
            self.collections[i]
            and "read" in self.actions[i]
            and bool(objects & self.resources[i])
            and bool(kinds)
            and kinds[0] in self.chains.finders
        )

    def _add_providers(self, scores: list[float], request: Request) -> None:
        """Rank, just below each of the best operations, the operations that find the things it needs by id
        (and what those need in turn)."""
        chains = self.chains
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        targets = [i for i in ranked[:PROVIDER_TARGETS] if scores[i] > 0]
        seen = set(targets)
        for _ in range(PROVIDER_DEPTH):
            found = []
            for target in targets:
                providers = [self._provider(kind, request, scores) for kind in chains.id_kinds[target]]
                providers += [
                    chains.lister(kind, request, scores)
                    for kind in chains.parameter_kinds[target]
                    if kind in request.named_kinds or request.names_untyped
                ]
                for provider in providers:
                    if provider is None or provider == target:
                        continue
                    scores[provider] = max(scores[provider], scores[target] * PROVIDER_SHARE)
                    if provider not in seen:
                        seen.add(provider)
                        found.append(provider)
            targets = found

    def _provider(self, kind: str, request: Request, scores: Sequence[float]) -> int | None:
        provider = self.chains.provider(kind, request, scores)
        if provider is None and request.names_something:
            provider = self._listed_by(kind, scores)
        return provider

    def _add_readers(self, scores: list[float], request: Request) -> None:
        """Rank, just below each of the best operations that find one thing of a kind, the read of that
        thing that best fits the request."""
        chains = self.chains
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        for target in [i for i in ranked[:PROVIDER_TARGETS] if scores[i] > 0 and i < len(chains.returns)]:
            kind = chains.returns[target]
            if kind is None or kind in request.plurals or request.weights.get(kind, 0.0) < 1:
                continue
            reader = _best(chains.readers[kind], scores)
            scores[reader] = max(scores[reader], scores[target] * READER_SHARE)

    def _add_learned(
        self, scores: list[float], weights: dict[str, float], learned: Sequence[LearnedTask]
    ) -> None:
        """Raise the operations that past tasks like this one called, by how alike the tasks are: several
        alike tasks that called an operation count as stronger evidence than one (noisy-or)."""
        positions = {op.name: i for i, op in enumerate(self.operations)}
        positions.update({op.alias: i for i, op in enumerate(self.operations) if op.alias})
        past = [(self.understood(example.task), example.operations) for example in learned]
        frequency: Counter[str] = Counter(term for terms, _ in past for term in terms)
        idf = {term: math.log(1 + (len(past) + 1) / (count + 0.5)) for term, count in frequency.items()}
        asked = {term: weight * idf[term] for term, weight in weights.items() if term in idf}
        if not asked:
            return
        asked_norm = math.sqrt(sum(v * v for v in asked.values()))
        evidence: dict[int, float] = {}
        for terms, operations in past:
            vector = {term: weight * idf[term] for term, weight in terms.items()}
            shared = sum(value * vector[term] for term, value in asked.items() if term in vector)
            if not shared:
                continue
            similarity = shared / (asked_norm * math.sqrt(sum(v * v for v in vector.values())))
            if similarity < LEARNED_SIMILARITY:
                continue
            for name in dict.fromkeys(operations):
                if (i := positions.get(name)) is not None:
                    evidence[i] = 1 - (1 - evidence.get(i, 0.0)) * (1 - similarity)
        best = max(scores, default=0.0) or 1.0
        for i, strength in evidence.items():
            scores[i] += LEARNED_SHARE * best * strength

    def understood(self, task: str) -> dict[str, float]:
        """A past task's weighted terms, as a request's are read (kept: the same tasks come back)."""
        if task not in self._understood:
            if len(self._understood) > UNDERSTOOD_KEPT:
                self._understood.clear()
            self._understood[task] = understand(task, self.document_frequency, self.scopes).weights
        return self._understood[task]


@dataclass(frozen=True)
class Chains:
    """What each operation needs found first, and the operations that find each kind of thing."""

    # Per operation, the kinds of the things its path takes by id (`/tv/{tv_id}/season/{n}` -> tv).
    id_kinds: tuple[tuple[str, ...], ...]
    current_user: int | None
    # The current user's own collections by kind (`GET /me/playlists` -> playlist).
    own: dict[str, list[int]]
    # The searches for one kind (`GET /search/person`), and under "" the searches of everything.
    finders: dict[str, list[int]]
    finds_all: tuple[int, ...]
    # The reads of one thing by its id, by kind (`GET /tv/{tv_id}`, `GET /tv/{tv_id}/credits` -> tv), and the
    # one kind of thing each search or list finds where it has such reads (`GET /tv/popular` -> tv).
    readers: dict[str, list[int]] = field(default_factory=dict)
    returns: tuple[str | None, ...] = ()
    # Per operation, the kinds of the things it takes by id as a query or body parameter (Slack's
    # `POST /chat.postMessage` takes a `channel`), where the spec lists or finds that kind; and those lists
    # and searches by kind (`GET /conversations.list` for a channel), with the words of what each search
    # must be given (`GET /users.lookupByEmail`: an email), which a request must give for it to fit.
    parameter_kinds: tuple[tuple[str, ...], ...] = ()
    listers: dict[str, list[int]] = field(default_factory=dict)
    needs: dict[int, frozenset[str]] = field(default_factory=dict)
    # The reads of one thing by its name, by kind, the plainest first (`GET /u/{username}.json` -> user).
    by_name: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        operations: Sequence[Operation],
        lookups: Sequence[frozenset[str] | None],
        boilerplate: frozenset[str] = frozenset(),
    ) -> Chains:
        current_user = next((i for i, op in enumerate(operations) if _is_current_user(op)), None)
        prefix = operations[current_user].path.rstrip("/") + "/" if current_user is not None else None
        own: dict[str, list[int]] = {}
        finders: dict[str, list[int]] = {}
        for i, op in enumerate(operations):
            if op.method != "GET" or any(p.location == "path" for p in op.parameters):
                continue
            literal = [s for s in op.path.lower().split("/") if s and not s.startswith("{")]
            if prefix is not None and op.path.startswith(prefix) and _returns_collection(op):
                own.setdefault(_kind(literal[-1]), []).append(i)
            for kind in lookups[i] or ({""} if lookups[i] is not None else set()):
                finders.setdefault(kind, []).append(i)
        id_kinds = tuple(_id_kinds(op) for op in operations)
        readers: dict[str, list[int]] = {}
        for i, op in enumerate(operations):
            if op.method == "GET" and len(id_kinds[i]) == 1 and _path_parameters(op) == 1:
                readers.setdefault(id_kinds[i][0], []).append(i)
        returns = tuple(_returned_kind(op, readers) for op in operations)
        listed: dict[str, list[int]] = {}
        for i, op in enumerate(operations):
            if _lists_one_kind(op, boilerplate):
                listed.setdefault(_kind(op.path.rstrip("/").rsplit("/", 1)[-1]), []).append(i)
        listers: dict[str, list[int]] = {}
        taken = [_parameter_kinds(op) for op in operations]
        for kind in {kind for kinds in taken for kind in kinds}:
            # Listed under its own name or a synonym (Slack's channels by `GET /conversations.list`).
            names = (kind, *(_stem(synonym) for synonym in SYNONYMS.get(kind, ())))
            if found := [*finders.get(kind, []), *(i for name in names for i in listed.get(name, []))]:
                listers[kind] = list(dict.fromkeys(found))
        # A search's own parameters are its filters (`repo_search`'s `team_id`), not things to find first.
        parameter_kinds = tuple(
            () if lookups[i] is not None else tuple(kind for kind in kinds if kind in listers)
            for i, kinds in enumerate(taken)
        )
        needs = {
            i: frozenset(
                word
                for p in operations[i].parameters
                if p.required and p.location != "header" and p.name not in boilerplate
                for word in tokenize(p.name.replace("_", " "))
            )
            - SEARCH_TEXT
            for found in listers.values()
            for i in found
        }
        by_name: dict[str, list[int]] = {}
        for i, op in enumerate(operations):
            if kind := _name_kind(op):
                by_name.setdefault(kind, []).append(i)
        for found in by_name.values():  # the plainest read first: `get_user` before `list_user_badges`
            found.sort(key=lambda i: len(tokenize(operations[i].name.replace("_", " "))))
        finds_all = tuple(finders.pop("", []))
        return cls(
            id_kinds,
            current_user,
            own,
            finders,
            finds_all,
            readers,
            returns,
            parameter_kinds,
            listers,
            needs,
            by_name,
        )

    def lister(self, kind: str, request: Request, scores: Sequence[float]) -> int | None:
        """The list or search that finds the `kind` of thing a request names and a parameter takes."""
        fits = [i for i in self.listers[kind] if self.needs[i] <= request.weights.keys()]
        return _best(fits, scores) if fits else None

    def provider(self, kind: str, request: Request, scores: Sequence[float]) -> int | None:
        """The operation that finds the `kind` of thing this request means, if the spec has one."""
        if request.names_handle and kind in self.by_name:
            return self.by_name[kind][0]
        if kind in USER_KINDS and self.current_user is not None:
            return self.current_user
        if request.about_self and kind in self.own:
            return _best(self.own[kind], scores)
        if request.names_something and (kind in self.finders or self.finds_all):
            return _best(self.finders.get(kind) or list(self.finds_all), scores)
        return None


def _name_kind(operation: Operation) -> str:
    """The kind of thing a GET reads by its name (`GET /u/{username}.json`: user), else ""."""
    path = [p for p in operation.parameters if p.location == "path"]
    if operation.method != "GET" or len(path) != 1 or _returns_collection(operation):
        return ""
    if not (by_name := _BY_NAME.fullmatch(path[0].name)):
        return ""
    literal = [s for s in operation.path.split("/{")[0].split("/") if s]
    return _stem(by_name.group(1).lower()) if by_name.group(1) else _kind(literal[-1]) if literal else ""


def _parameter_kinds(operation: Operation) -> tuple[str, ...]:
    """The kinds of thing an operation takes by id in its query or body (`channel`, `users`, `team_id`): the
    names of its string and integer values (an object or a flag is not an id)."""
    values = {p.name: p.schema for p in operation.parameters if p.location == "query"}
    schema = operation.body.schema if operation.body is not None else None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    values.update(properties if isinstance(properties, dict) else {})
    kinds = [
        _stem(_ID_SUFFIX.sub("", name).lower())
        for name, value in values.items()
        if not isinstance(value, dict) or value.get("type") in (None, "string", "integer")
    ]
    return tuple(dict.fromkeys(kind for kind in kinds if kind.isalpha() and kind not in ("id", "ids")))


def _lists_one_kind(operation: Operation, boilerplate: frozenset[str]) -> bool:
    """Whether an operation lists the things of one kind, needing nothing first (`GET /users.list`)."""
    if operation.method != "GET" or _path_parameters(operation):
        return False
    if any(p.required and p.location != "header" and p.name not in boilerplate for p in operation.parameters):
        return False
    return "list" in tokenize(operation.name.replace("_", " "))


def _document_loader(spec: Spec) -> Callable[[], dict[str, Any] | None]:
    """A call that gives the spec's document while the spec lives (the index must not keep it alive: indexes
    are kept by spec, weakly), else None."""
    reference = weakref.ref(spec)

    def load() -> dict[str, Any] | None:
        alive = reference()
        return alive.document if alive is not None else None

    return load


def _response_field_words(document: dict[str, Any], operation: Operation) -> frozenset[str]:
    """The words of the top-level fields of an operation's successful JSON response (`production_companies`
    -> production, company)."""
    from apis.refs import resolve  # here: it brings the spec reading machinery, which searching seldom needs

    path_item = resolve(document, (document.get("paths") or {}).get(operation.path))
    raw = resolve(document, path_item.get(operation.method.lower()) if isinstance(path_item, dict) else None)
    responses = resolve(document, raw.get("responses") if isinstance(raw, dict) else None)
    if not isinstance(responses, dict):
        return frozenset()
    response = resolve(document, responses.get("200") or responses.get("201"))
    content = response.get("content") if isinstance(response, dict) else None
    if not isinstance(content, dict):
        return frozenset()
    media_types = [media for media in content.values() if isinstance(media, dict)]
    schemas = [resolve(document, media.get("schema")) for media in media_types]
    if not schemas or not isinstance(schemas[0], dict):
        return frozenset()
    all_of = schemas[0].get("allOf")
    parts = [resolve(document, part) for part in [schemas[0], *(all_of if isinstance(all_of, list) else ())]]
    properties = [part.get("properties") for part in parts if isinstance(part, dict)]
    names = [name for found in properties if isinstance(found, dict) for name in found]
    return frozenset(word for name in names for word in tokenize(name.replace("_", " ")))


def _path_parameters(operation: Operation) -> int:
    return sum(1 for p in operation.parameters if p.location == "path")


def _returned_kind(operation: Operation, readers: dict[str, list[int]]) -> str | None:
    """The one kind of thing (with reads by id) a GET that takes no id finds: `/search/tv`, `/tv/popular`;
    else the last such kind its name says (`get_the_users_currently_playing_track`, `/me/player/...`)."""
    if operation.method != "GET" or _path_parameters(operation):
        return None
    kinds = {_kind(s) for s in operation.path.lower().split("/") if s} & readers.keys()
    if kinds:
        return kinds.pop() if len(kinds) == 1 else None
    named = [word for word in tokenize(operation.name.replace("_", " ")) if word in readers]
    return named[-1] if named else None


def _best(candidates: Sequence[int], scores: Sequence[float]) -> int:
    return max(candidates, key=lambda i: scores[i])


def _kind(segment: str) -> str:
    words = tokenize(segment.split(".")[0])
    return words[-1] if words else ""


def _id_kinds(operation: Operation) -> tuple[str, ...]:
    """The kinds of the things an operation's path takes by id: the literal segment before `{id}`,
    `{movie_id}`, `{playlistId}`."""
    kinds = []
    previous = ""
    for segment in operation.path.split("/"):
        if segment.startswith("{"):
            name = segment.strip("{}")
            if previous and (name.lower() == "id" or re.search(r"(?:_id|Id|ID)$", name)):
                kinds.append(previous)
        elif segment:
            previous = _kind(segment)
    return tuple(dict.fromkeys(kinds))


def _is_current_user(operation: Operation) -> bool:
    """`GET /me`, `GET /user`, `GET /rest/api/3/myself`: the user the credentials belong to."""
    if operation.method != "GET" or any(p.location == "path" for p in operation.parameters):
        return False
    literal = [s for s in operation.path.lower().split("/") if s and not s.startswith("{")]
    return bool(literal) and literal[-1] in CURRENT_USER_SEGMENTS


_indexes: weakref.WeakKeyDictionary[Spec, SearchIndex] = weakref.WeakKeyDictionary()


def search_index(spec: Spec) -> SearchIndex:
    """The spec's index, built on first use and kept as long as the spec is."""
    if spec not in _indexes:
        _indexes[spec] = SearchIndex.build(spec)
    return _indexes[spec]


def search(spec: Spec, query: str, k: int = 10, learned: Sequence[LearnedTask] = ()) -> list[Operation]:
    """The `k` operations that best match `query`, best first; ties keep document order. With `learned`,
    what past tasks worded like `query` called ranks first."""
    scores = search_index(spec).scores(query, learned)
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
    return [spec.operations[i] for i in ranked[:k] if scores[i] > 0 or k >= len(scores)]


def _boilerplate_parameters(operations: Sequence[Operation]) -> frozenset[str]:
    """Parameters most operations take (Kubernetes' `sendInitialEvents`, `pretty`; `page`, `limit`): they
    say nothing about any one operation, and their words would match requests about something else."""
    counts = Counter(name for op in operations for name in {p.name for p in op.parameters})
    return frozenset(name for name, count in counts.items() if count > BOILERPLATE_SHARE * len(operations))


def _document_terms(operation: Operation, boilerplate: frozenset[str] = frozenset()) -> list[str]:
    fields = {
        "name": f"{operation.name} {operation.operation_id or ''}",
        "summary": f"{operation.summary} {METHOD_WORDS.get(operation.method, '')}",
        "path": " ".join(s for s in operation.path.split("/") if not s.startswith("{")),
        "group": " ".join(operation.tags) or operation.group,
        "parameters": " ".join(p.name for p in operation.parameters if p.name not in boilerplate),
        "description": operation.description[:DESCRIPTION_CHARS],
    }
    terms = []
    for name, text in fields.items():
        terms += tokenize(text) * FIELD_WEIGHTS[name]
    return terms


def understand(query: str, vocabulary: Counter[str], scopes: frozenset[str]) -> Request:
    """A request's terms and intent: titles and values (`acme/webapp`, `api-5f7`, the word after
    `namespace`) set aside, idioms rewritten into the words specs use, synonyms added at a lower weight."""
    query = query[:REQUEST_CHARS]
    # A title right after "called", "named"... names something new, which no search finds.
    names = [m.group(0) for m in _QUOTED.finditer(query) if not _names_new(query[: m.start()])]
    quoted = len(names)
    text = _QUOTED.sub(" ", query)
    kept: list[str] = []
    named_kinds: set[str] = set()
    owner = handle = False
    for position, chunk in enumerate(text.split()):
        word = chunk.strip(".,;:!?()[]'\"")
        named = _POSSESSIVE.sub("", word)
        form = next((form for form in NAMED_FORMS if form.pattern.fullmatch(named)), None)
        kind = next((kind for kind in form.kinds if kind in vocabulary), None) if form else None
        if form is not None and kind is not None:
            named_kinds.add(kind)
            # "#general": the channel; "docs/setup.md": the file's content, and its own words
            own = _FILE_STEM.sub("", named.rsplit("/", 1)[-1]) if form.keeps_own_words else ""
            kept.append(f"{kind} {form.told} {own}".strip())
            if chunk[-1:] in ".?!":
                kept.append("")
            continue
        previous = kept[-1].lower() if kept else ""
        if _HANDLE.fullmatch(word) or (previous in USER_KINDS and _stem(word.lower()) not in vocabulary):
            handle = True
            continue
        if "/" in word or any(_MIXED.fullmatch(part) for part in word.split("-")):
            continue  # a value: owner/repo, a pod's generated name, a version
        starts_sentence = position == 0 or kept[-1:] == [""] or chunk[:1] in "\"'"
        if (
            word[:1].isupper()
            and not starts_sentence
            and word.lower() not in SELF_WORDS  # "I", "My Music": the user's, not a title
            and _stem(_POSSESSIVE.sub("", word).lower()) not in vocabulary
        ):
            if not _names_new(" ".join(kept)):
                names.append(word)  # a title: "Sofia Coppola", "Titanic"
                owner = owner or word.endswith(("'s", "\u2019s"))
            continue
        if previous in scopes and not word.lower() in vocabulary:
            continue  # the namespace's or owner's name
        kept.append(word)
        if chunk[-1:] in ".?!":
            kept.append("")
    text = " ".join(kept)
    said = frozenset(_WORD.findall(text.lower()))
    for pattern, replacement in IDIOMS:
        text = pattern.sub(replacement, text)
    weights: dict[str, float] = {}
    for term in tokenize(text):
        for part in _parts(term, vocabulary):
            weights[part] = weights.get(part, 0.0) + 1.0
    for kind in named_kinds - {_stem(word) for word in _WORD.findall(query.lower())}:
        weights[kind] = SYNONYM_WEIGHT  # named as a value ("@lena"), not asked about
    for term in list(weights):
        for synonym in SYNONYMS.get(term, ()):
            weights.setdefault(_stem(synonym), SYNONYM_WEIGHT)
    about_self = bool(SELF_WORDS & set(_WORD.findall(query.lower())))
    if about_self:
        for term in SELF_TERMS:
            weights.setdefault(term, SYNONYM_WEIGHT)
    plurals = frozenset(
        _stem(word) for word in _WORD.findall(text.lower()) if _stem(word) != word and word not in STOPWORDS
    )
    owner = owner or bool(names and _OWNED_BY_THEM.search(text))  # "his", "her": a titled person's
    untyped = len(names) > quoted or _names_in_lower_case(text, vocabulary, said)
    names_something = bool(names) or untyped
    action = _asked_action(text)
    of_kinds = frozenset(named_kinds)
    return Request(weights, action, plurals, names_something, about_self, owner, of_kinds, untyped, handle)


def _parts(term: str, vocabulary: Counter[str]) -> tuple[str, ...]:
    """A word the spec does not use, as the two words it joins that the spec does ("tracklist" -> track,
    list); any other word as itself."""
    if len(term) >= 2 * COMPOUND_PART and term not in vocabulary:
        for cut in range(COMPOUND_PART, len(term) - COMPOUND_PART + 1):
            first, second = _stem(term[:cut]), _stem(term[cut:])
            if first in vocabulary and second in vocabulary:
                return first, second
    return (term,)


def _names_in_lower_case(text: str, vocabulary: Counter[str], said: frozenset[str]) -> bool:
    """Whether a request typed in lower case names something: two words in a row that the spec does not use
    ("margot robbie", "phoebe bridgers"), or one where a name goes: last, after "of", "by"... or after a
    one-word command ("photos of zendaya", "unfollow drake"). One alone elsewhere is more often a word of the
    request ("lead", "need", "later"). `text` is the request with its idioms rewritten (which drops words that
    are not names, "lead actor" -> "lead credits person"); the words they add are not names."""
    words = [word.strip(".,;:!?()[]'\"").lower() for word in text.split()]
    unknown = [
        word in said
        and word.isalpha()
        and len(word) >= 3
        and word not in STOPWORDS
        and word not in PRONOUNS
        and _stem(word) not in vocabulary
        for word in words
    ]
    last = len(words) - 1
    after_command_or_of = last >= 1 and unknown[last] and (last == 1 or words[last - 1] in NAME_BEFORE)
    return after_command_or_of or any(first and second for first, second in itertools.pairwise(unknown))


def _names_new(before: str) -> bool:
    """Whether the words before a title introduce a new name ("a playlist called", "name it")."""
    return bool(_NAMING.search(before))


def _asked_action(query: str) -> str | None:
    """The action of the first word of the task that names one (`close issue 4` -> update)."""
    for word in _WORD.findall(query.lower()):
        for action, words in ACTIONS.items():
            if word in words:
                return action
    return None


def _operation_actions(operation: Operation) -> frozenset[str]:
    """What an operation does: its method's action, and the actions its name's words say (RPC-style APIs)."""
    words = set(_WORD.findall(_CAMEL.sub(" ", operation.name.replace("_", " ")).lower()))
    named = {action for action, verbs in ACTIONS.items() if words & set(verbs)}
    method = METHOD_ACTIONS.get(operation.method)
    # A POST named get/list/info reads; otherwise the method says what it does.
    if named and operation.method == "POST":
        return frozenset(named)
    return frozenset(named | ({method} if method else set()))


def _resource_terms(operation: Operation) -> frozenset[str]:
    """The thing an operation acts on: the words of its last literal path segment (`/repos/{o}/{r}/issues/{n}`
    -> issue)."""
    literal = [segment for segment in operation.path.split("/") if segment and not segment.startswith("{")]
    return frozenset(tokenize(literal[-1].split(".")[0])) if literal else frozenset()


def _lookup_terms(operation: Operation) -> frozenset[str] | None:
    """What a search operation finds: the other literal words of its path (`/search/person` -> person)."""
    words = set(_WORD.findall(_CAMEL.sub(" ", operation.name).lower()))
    literal = [s for s in operation.path.lower().split("/") if s and not s.startswith("{")]
    if operation.method not in ("GET", "POST") or not ({"search", "find", "lookup"} & (words | set(literal))):
        return None
    return frozenset(tokenize(" ".join(s for s in literal if s != "search")))


def _neighbourhood(lookup: frozenset[str] | None, under: dict[str, set[str]]) -> frozenset[str]:
    return frozenset(word for kind in lookup or () for word in under.get(kind, ()))


def _returns_collection(operation: Operation) -> bool:
    return not operation.path.rstrip("/").rsplit("/", 1)[-1].startswith("{")


def _first_path_parameter(operation: Operation) -> str:
    return next((p.name.lower() for p in operation.parameters if p.location == "path"), "")


def _rarity_factor(operation: Operation) -> float:
    text = f"{operation.name} {operation.summary}".lower()
    if operation.deprecated or "deprecated" in text:
        return DEPRECATED_FACTOR
    if operation.name.startswith("admin") or "/admin" in operation.path:
        return ADMIN_FACTOR
    return 1.0
