"""Static files storage: hashed, compressed names, ES module imports included.

A page's entry module is served under a hashed name, and so must be every module it
imports, or a deploy could mix a new entry module with old imports from a browser's
cache. Django can rewrite JavaScript imports itself (`support_js_module_import_aggregation`),
but with case-insensitive regular expressions over the whole text: an identifier such as
`setExport }` inside an import list, a comment or a string that looks like an import is
rewritten too, and the page then asks for a file that does not exist. Here JavaScript is
parsed (tree-sitter's JavaScript grammar) and only the real module specifiers are
rewritten: the source of `import`/`export … from` statements and the literal argument of
`import(…)`, and `//# sourceMappingURL=` comments (the one JavaScript reference Django
rewrites without that option).
"""

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import md5
from urllib.parse import urlsplit

import tree_sitter_javascript
from django.contrib.staticfiles.storage import HashedFilesMixin
from django.core.files.base import ContentFile
from tree_sitter import Language, Node, Parser
from whitenoise.storage import CompressedManifestStaticFilesStorage

JAVASCRIPT = Language(tree_sitter_javascript.language())
MODULE_SUFFIXES = (".js", ".mjs")
RELATIVE = ("./", "../")
RELATIVE_BYTES = tuple(prefix.encode() for prefix in RELATIVE)
SOURCE_MAP = "//# sourceMappingURL="


@dataclass(frozen=True)
class Reference:
    """A file named in a module's source: the text of a specifier, and where it is (in bytes)."""

    text: str
    start: int
    end: int
    line: int
    source_map: bool = False  # A source map's URL is relative with or without "./".


def line(node: Node) -> int:
    return node.start_point.row + 1


def _literal(node: Node, name: str) -> Reference | None:
    """The text inside a string literal's quotes, or of a template literal without
    substitutions; None for anything computed."""
    if node.type == "template_string" and any(
        child.type == "template_substitution" for child in node.children
    ):
        if node.text[1:].startswith(RELATIVE_BYTES):
            raise ValueError(
                f"{name}, line {line(node)}: import({node.text.decode()}) is computed, so its "
                "file cannot be given its hashed name. Import each module by its literal path."
            )
        return None
    if node.type not in ("string", "template_string"):
        return None
    if any(child.type == "escape_sequence" for child in node.children):
        raise ValueError(
            f"{name}, line {line(node)}: the module specifier {node.text.decode()} has an "
            "escape sequence in it; write the path plainly."
        )
    return Reference(node.text[1:-1].decode(), node.start_byte + 1, node.end_byte - 1, line(node))


def _reference(node: Node, name: str) -> Reference | None:
    """The file a node names, if it is a module specifier or a source map comment."""
    if node.type in ("import_statement", "export_statement"):
        source = node.child_by_field_name("source")  # Absent from `export const …`.
        return _literal(source, name) if source is not None else None
    if node.type == "call_expression":
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or function.type != "import" or arguments is None:
            return None
        first = arguments.named_children[:1]
        return _literal(first[0], name) if first else None
    if node.type == "comment" and node.start_point.column == 0:
        # As Django's own pattern: a whole line; any URL but an absolute one.
        text = node.text.decode()
        url = text.removeprefix(SOURCE_MAP).rstrip()
        if text.startswith(SOURCE_MAP) and url and not urlsplit(url).scheme:
            if not url.startswith("/"):
                start = node.start_byte + len(SOURCE_MAP)
                return Reference(url, start, start + len(url.encode()), line(node), True)
    return None


def references(source: bytes, name: str) -> list[Reference]:
    """Every relative module specifier and source map URL in a module, in source order.

    Raises ValueError when the file does not parse (its imports could not be trusted) or
    names a relative module in a way that cannot be rewritten.
    """
    tree = Parser(JAVASCRIPT).parse(source)
    if tree.root_node.has_error:
        broken = _first_error(tree.root_node)
        raise ValueError(
            f"{name} is not valid JavaScript (line {line(broken)}), so its imports cannot "
            "be rewritten to hashed names."
        )
    found: list[Reference] = []
    pending = [tree.root_node]
    while pending:
        node = pending.pop()
        reference = _reference(node, name)
        if reference is not None and (reference.source_map or reference.text.startswith(RELATIVE)):
            found.append(reference)
        pending.extend(reversed(node.children))
    return found


def _first_error(node: Node) -> Node:
    for child in node.children:
        if child.is_error or child.is_missing:
            return child
        if child.has_error:
            return _first_error(child)
    return node


def rewrite(source: bytes, replacements: list[tuple[Reference, str]]) -> bytes:
    """The source with each reference's span replaced, and nothing else changed."""
    out, position = [], 0
    for reference, text in sorted(replacements, key=lambda pair: pair[0].start):
        out += [source[position : reference.start], text.encode()]
        position = reference.end
    out.append(source[position:])
    return b"".join(out)


class ModuleImportsMixin(HashedFilesMixin):
    """Django's hashing for every file but JavaScript, whose references are found by a
    parser and rewritten here, once the other files have their hashed names.

    A module's hash covers its own source and the sources of every module it imports,
    directly or not (and the hashed names of other files they import). Its rewritten
    text is made of nothing else, so the name changes whenever anything that changes
    the text does: a module whose import changed gets a new name, and so does each
    module importing it. Import cycles, which ES modules allow and Django's passes
    cannot settle, need nothing special.
    """

    patterns = tuple(
        (suffix, patterns) for suffix, patterns in HashedFilesMixin.patterns if suffix != "*.js"
    )
    support_js_module_import_aggregation = False

    def post_process(self, paths, dry_run=False, **options):
        modules = {name: found for name, found in paths.items() if name.endswith(MODULE_SUFFIXES)}
        others = {name: found for name, found in paths.items() if name not in modules}
        yield from super().post_process(others, dry_run=dry_run, **options)
        if not dry_run:
            yield from self._post_process_modules(modules, set(paths))

    def _post_process_modules(self, modules: dict, collected: set[str]) -> Iterator[tuple]:
        sources: dict[str, bytes] = {}
        for name, (storage, path) in modules.items():
            with storage.open(path) as file:
                sources[self.clean_name(name)] = file.read()
        collected = {self.clean_name(name) for name in collected}
        links: dict[str, list[tuple[Reference, str]]] = {}
        for name, source in sources.items():
            try:
                links[name] = [
                    (reference, self._target(name, reference, collected))
                    for reference in references(source, name)
                ]
            except ValueError as error:
                yield name, None, error
                return
        hashed = {name: self._module_name(name, sources, links) for name in sources}
        for name, source in sources.items():
            replacements = [
                (reference, _linked(reference.text, hashed.get(target) or self._stored(target)))
                for reference, target in links[name]
            ]
            content = ContentFile(rewrite(source, replacements))
            if self.exists(hashed[name]):
                self.delete(hashed[name])
            saved = self.clean_name(self._save(hashed[name], content))
            self.hashed_files[self.hash_key(name)] = saved
            yield name, saved, True

    def _target(self, name: str, reference: Reference, collected: set[str]) -> str:
        path = urlsplit(reference.text).path
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path))
        if target not in collected:
            raise ValueError(
                f"The file '{target}' could not be found: {name}, line {reference.line}, "
                f'refers to "{reference.text}".'
            )
        return target

    def _stored(self, target: str) -> str:
        return self.hashed_files[self.hash_key(target)]

    def _module_name(self, name: str, sources: dict, links: dict) -> str:
        """The hashed name of a module, from everything its rewritten text depends on."""
        seen, pending = {name}, [name]
        while pending:
            for _, target in links[pending.pop()]:
                if target in sources and target not in seen:
                    seen.add(target)
                    pending.append(target)
        key = md5(usedforsecurity=False)
        for member in sorted(seen):
            key.update(
                f"{member}\0".encode() + md5(sources[member], usedforsecurity=False).digest()
            )
            for _, target in links[member]:
                if target not in sources:
                    key.update(f"\0{self._stored(target)}".encode())
        return self.clean_name(self.hashed_name(name, ContentFile(key.digest())))


def _linked(text: str, hashed: str) -> str:
    """A reference to the hashed file, written as the original was (same directories,
    query and fragment)."""
    parts = urlsplit(text)
    path = posixpath.join(posixpath.dirname(parts.path), posixpath.basename(hashed))
    return parts._replace(path=path).geturl()


class StaticFilesStorage(CompressedManifestStaticFilesStorage, ModuleImportsMixin):
    """WhiteNoise's compressed manifest storage, with JavaScript's references hashed.

    ModuleImportsMixin lands after Django's manifest mixin and before its hashing in the
    method order, so the modules' names are in the manifest and compressed like the rest.
    """
