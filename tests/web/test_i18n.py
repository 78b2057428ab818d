"""Translations: the committed catalogue is complete and compiles the way GNU msgfmt would."""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
from compile_messages import parse_po, write_mo  # noqa: E402

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# Modules whose validation messages reach users through every door: a message written there as a
# plain or f-string would never reach the catalogue, so they are scanned for one.
SERVICE_MODULES = sorted(
    [
        *(Path(settings.BASE_DIR) / "customers" / "services").glob("**/*.py"),
        # the import applies the services' rules; its own row messages reach users too
        *(Path(settings.BASE_DIR) / "integrations" / "services").glob("*.py"),
        *(Path(settings.BASE_DIR) / "customers" / "custom_fields").glob("*.py"),
        Path(settings.BASE_DIR) / "customers" / "validators.py",
        Path(settings.BASE_DIR) / "customers" / "filters.py",
    ]
)
# The doors and the features whose refusals a door shows as they are: a message a user reads is
# translated whichever door shows it (REST, SOAP, the pages, a connector's or a job's report).
DOOR_PACKAGES = [
    "customers/api",
    "customers/web",
    "integrations/api",
    "integrations/soap",
    "integrations/web",
    "integrations/webhooks",
    "integrations/connectors",
    "integrations/imports",
    "integrations/exports",
]
# The API's description (OpenAPI examples and field help) is written in English, like the field
# names and codes it documents.
API_DESCRIPTION = {"schema.py", "schema_components.py", "schema_examples.py"}
DOOR_MODULES = sorted(
    [
        *(
            path
            for package in DOOR_PACKAGES
            for path in (Path(settings.BASE_DIR) / package).glob("**/*.py")
            if path.name not in API_DESCRIPTION
        ),
        Path(settings.BASE_DIR) / "integrations" / "api_auth.py",
    ]
)
SCANNED_MODULES = sorted({*SERVICE_MODULES, *DOOR_MODULES})
# integrations/services modules outside the import whose messages are still plain strings:
# each is expected to fail the scan (strict) until its messages are marked, then leaves here.
NOT_YET_TRANSLATED: set[str] = set()
NOT_YET_IN_CATALOGUE: set[str] = set()


def _modules(pending: set[str]) -> list:
    return [
        pytest.param(
            path,
            id=path.relative_to(settings.BASE_DIR).as_posix(),
            marks=[pytest.mark.xfail(strict=True, reason="plain-string messages not yet marked")]
            if path.parent.name == "services"
            and path.parent.parent.name == "integrations"
            and path.name in pending
            else [],
        )
        for path in SCANNED_MODULES
    ]


# The import's per-row reports: ``row.fail(field, message)``, ``result.skip(row, message)``.
ROW_REPORTS = {"fail", "skip"}
# Refusals whose message a door shows as it is (a REST 401/403/409/422, a page's notice).
USER_FACING_ERRORS = {
    "ValidationError",
    "PermissionDenied",
    "InvalidApiKey",
    "IdempotencyConflict",
    "RunRefused",
    "QueueUnavailable",
    # the doors' own: REST's 409s and 412s, a batch record's errors, SOAP's refusals, a
    # connector's failure (a sync run stores it for its page)
    "AuthenticationFailed",
    "ConnectorError",
    "InvalidRequest",
    "JobConflict",
    "OutboundRefused",
    "PreconditionFailed",
    "RunConflict",
    "Throttled",
    "_RecordError",
}
# DRF's exceptions whose first argument is the message, read as ``exceptions.NotFound(...)`` or
# imported from rest_framework.exceptions: a bare ``NotFound`` may be another door's own (SOAP's
# takes a kind and a key, and words its message itself).
DRF_ERRORS = {"APIException", "NotAcceptable", "NotAuthenticated", "NotFound", "ParseError"}
# ``messages.success(request, message)``: the notice a page shows after a redirect.
PAGE_NOTICES = {"debug", "info", "success", "warning", "error"}
# Names that hold a message for a door to show: ``message = ...`` before it is raised,
# ``self.message`` (a DRF permission's refusal), ``default_detail`` (an APIException's).
MESSAGE_NAMES = {"message", "default_detail"}
# Where a job or a sync run keeps the message its page and its REST resource show.
STORED_MESSAGES = {"error_message"}
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
# Chinese writes these as English does: a translation equal to its msgid is no gap here (a
# configuration key is an English identifier, and keeps the colon that follows it).
SAME_IN_CHINESE = {"Crontab", "%(key)s: %(message)s"}


def _is_gettext(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in GETTEXT_NAMES
    )


def _called(node: ast.AST) -> str:
    """``ValidationError`` for ``ValidationError(...)`` and ``serializers.ValidationError(...)``."""
    func = getattr(node, "func", None)
    return getattr(func, "id", "") or getattr(func, "attr", "")


def _called_on(node: ast.AST) -> str:
    """``exceptions`` for ``exceptions.NotFound(...)``, ``messages`` for ``messages.error(...)``."""
    return getattr(getattr(getattr(node, "func", None), "value", None), "id", "")


def _holds_a_message(node: ast.Assign | ast.AnnAssign) -> bool:
    """``message = ...``, but not a serializer's ``message = serializers.CharField(...)``: the
    field a response's message goes in, whose help text describes the API."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = {getattr(target, "id", "") or getattr(target, "attr", "") for target in targets}
    declares_a_field = isinstance(node.value, ast.Call) and _called(node.value).endswith("Field")
    return not declares_a_field and any(
        name in MESSAGE_NAMES or name.endswith("_MESSAGES") for name in names
    )


def _exception_init_messages(tree: ast.AST) -> list[ast.AST]:
    """``super().__init__(message)`` in a module's own exception class: the message it words."""
    found = []
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef) or not any(
            getattr(base, "id", "").endswith(("Exception", "Error")) for base in cls.bases
        ):
            continue
        for node in ast.walk(cls):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", "") == "__init__"
                and isinstance(node.func.value, ast.Call)
                and getattr(node.func.value.func, "id", "") == "super"
            ):
                found.extend(node.args[:1])
    return found


def _messages(tree: ast.AST) -> list[ast.AST]:
    """The expressions a module hands to users: a user-facing error's first argument, the
    values of an `errors[...] = ...` collected for a ValidationError, an import row's report,
    the message a job or a sync run stores for its page, a SOAP Fault's faultstring (its code
    is an identifier), a page's notice, a form's added error and a response's ``"message"``."""
    imported = {  # local name -> (module, name): `ValidationError as DjangoValidationError`
        alias.asname or alias.name: (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    found = _exception_init_messages(tree)
    for node in ast.walk(tree):
        module, error = imported.get(_called(node), ("", _called(node)))
        if isinstance(node, ast.Call) and error in USER_FACING_ERRORS:
            found.extend(node.args[:1])
        elif isinstance(node, ast.Call) and error in DRF_ERRORS:
            if module == "rest_framework.exceptions" or _called_on(node) == "exceptions":
                found.extend(node.args[:1])
        elif isinstance(node, ast.Call) and _called(node) == "Fault":
            found.extend(node.args[1:2])
            found.extend(kw.value for kw in node.keywords if kw.arg == "faultstring")
        elif isinstance(node, ast.Call) and _called(node) in PAGE_NOTICES:
            if _called_on(node) == "messages":
                found.extend(node.args[1:2])
        elif isinstance(node, ast.Call) and _called(node) == "add_error":
            found.extend(node.args[1:2])
        elif isinstance(node, ast.Call) and _called(node) == "Record":
            # a connector's unreadable record: the sync run's report shows why
            found.extend(kw.value for kw in node.keywords if kw.arg == "error")
        elif isinstance(node, ast.Assign | ast.AnnAssign) and _holds_a_message(node):
            found.extend([node.value] if node.value is not None else [])
        elif isinstance(node, ast.Dict):
            found.extend(
                value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant) and key.value == "message"
            )
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"_fail"}:
            found.extend(node.args[1:2])  # a sync run's failure: _fail(run, message)
        elif isinstance(node, ast.keyword) and node.arg in STORED_MESSAGES:
            found.append(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ROW_REPORTS:
            found.extend(node.args[1:2])  # an import row's message: row.fail(field, message)
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Subscript) and getattr(target.value, "id", "") == "errors"
            for target in node.targets
        ):
            found.append(node.value)
    return found


def _untranslated_literals(node: ast.AST) -> list[str]:
    """Plain or f-string literals in a message expression, outside gettext calls, dict keys
    (``{f"filters.{name}": ...}`` names a field), subscripts (``message_dict["match_key"]``
    reads one) and a method's arguments (``config.get("records_path", "")`` reads a key,
    ``key.removeprefix("config.")`` strips a prefix)."""
    if _is_gettext(node) or isinstance(node, ast.Attribute):  # `", ".join` is no message
        return []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return []
    if isinstance(node, ast.JoinedStr):
        return [ast.unparse(node)]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [repr(node.value)]
    if isinstance(node, ast.Dict):
        children = node.values
    elif isinstance(node, ast.DictComp | ast.Subscript):
        children = [node.value]
    else:
        children = ast.iter_child_nodes(node)
    return [text for child in children for text in _untranslated_literals(child)]


def test_every_message_in_the_chinese_catalogue_is_translated():
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = text.count('\nmsgid "') - 1  # minus the header
    translated = len(parse_po(text)) - 1
    assert "#, fuzzy" not in text
    assert translated == entries


@pytest.mark.parametrize("path", _modules(NOT_YET_TRANSLATED))
def test_service_messages_are_marked_for_translation(path):
    """In the services, the rules and every door."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    literals = [text for node in _messages(tree) for text in _untranslated_literals(node)]
    assert literals == []


@pytest.mark.parametrize("path", _modules(NOT_YET_IN_CATALOGUE))
def test_every_service_message_has_a_chinese_translation(path):
    """Ours or Django's own catalogue (e.g. "This field is required.")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    missing = []
    with translation.override("zh-hans"):
        for node in ast.walk(tree):
            if not (_is_gettext(node) and isinstance(node.args[0], ast.Constant)):
                continue
            if node.func.id.startswith("ngettext"):
                singular, plural = (arg.value for arg in node.args[:2])
                pairs = [
                    (translation.ngettext(singular, plural, n), (singular, plural)[n > 1])
                    for n in (1, 2)
                ]
            else:
                pairs = [(translation.gettext(node.args[0].value), node.args[0].value)]
            missing += [
                english
                for translated, english in pairs
                if translated == english and english not in SAME_IN_CHINESE
            ]
    assert missing == []


@pytest.mark.parametrize("path", _modules(set()))
def test_every_message_is_filled_with_the_names_it_holds(path):
    """``_("... %(name)s ...") % {...}`` gives every placeholder a value: a message raised only
    on a rare refusal would otherwise fail with a KeyError instead of reaching the user."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mismatched = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and _is_gettext(node.left)
            and isinstance(node.left.args[0], ast.Constant)
            and isinstance(node.right, ast.Dict)
            and all(isinstance(key, ast.Constant) for key in node.right.keys)
        ):
            continue
        texts = [arg.value for arg in node.left.args[:2] if isinstance(arg, ast.Constant)]
        placeholders = {name for text in texts for name in re.findall(r"%\((\w+)\)", text)}
        given = {key.value for key in node.right.keys}
        if not placeholders <= given:
            mismatched.append((node.lineno, sorted(placeholders), sorted(given)))
    assert mismatched == []


def test_the_pure_python_compiler_matches_gnu_msgfmt(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    ours, theirs = tmp_path / "ours.mo", tmp_path / "theirs.mo"
    write_mo(parse_po(CATALOGUE.read_text(encoding="utf-8")), ours)
    subprocess.run([msgfmt, "-o", str(theirs), str(CATALOGUE)], check=True)
    ours_catalog = gettext.GNUTranslations(ours.open("rb"))._catalog
    theirs_catalog = gettext.GNUTranslations(theirs.open("rb"))._catalog
    # msgfmt drops POT-Creation-Date from the header; every message is identical.
    assert {k: v for k, v in ours_catalog.items() if k} == {
        k: v for k, v in theirs_catalog.items() if k
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["web:dashboard", "web:contact-list", "web:company-list", "web:deal-list", "web:deal-board"],
)
def test_pages_in_chinese_show_no_english_navigation_or_headings(sales_client, name):
    body = sales_client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for english in ("Dashboard<", "Contacts<", "Log out<", "Search<", "Pipeline<", ">Apply<"):
        assert english not in body
    assert "仪表盘" in body and "退出登录" in body
