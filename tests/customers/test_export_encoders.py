"""Contact exports encoded a chunk at a time: byte for byte what the generic writers write from
the REST representation, whatever the values, in every format, in one process or several."""

import io
import multiprocessing
import signal
import threading

import pytest
from django.conf import settings

from customers import representation
from customers.actors import SYSTEM
from customers.api.serializers import ContactOutputSerializer
from customers.custom_fields.values import definitions_for
from customers.models import Contact
from customers.representation.export_encoders import contact_encoder
from customers.representation.export_stream import contact_export_text
from customers.selectors import contact_list
from customers.services.custom_fields import custom_field_create
from integrations.exports import services as exports
from integrations.formats import open_writer
from tests.factories import CompanyFactory, ContactFactory, SalesUserFactory

pytestmark = pytest.mark.django_db
FORMATS = ["csv", "json", "xml"]


@pytest.fixture
def tricky(db):
    """Values that each format has a rule for: formulas, markup, CR, control characters, list
    separators, empty versus missing, masked PII, PII and plain custom fields."""
    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    custom_field_create(actor=SYSTEM, entity="contact", name="score", label="Score", type="integer")
    custom_field_create(
        actor=SYSTEM, entity="contact", name="mobile", label="Mobile", type="phone", pii=True
    )
    custom_field_create(
        actor=SYSTEM,
        entity="contact",
        name="levels",
        label="Levels",
        type="multi_choice",
        choices=["a", "b"],
    )
    custom_field_create(
        actor=SYSTEM, entity="contact", name="active", label="Active", type="boolean"
    )
    owner = SalesUserFactory(username="=owner")
    company = CompanyFactory(name='<Acme> & "Sons", =Ltd')
    ContactFactory(
        first_name="=1+2",
        last_name="-minus",
        title="@cmd\r\nline <b>&amp;</b>\x01",
        email="zhang.wei@example.cn",
        phone="+86 138 0013 8000",
        address='Line 1\nLine 2, "quoted"\t\'',
        company=company,
        owner=owner,
        tags=["a|b", "c\\d", "-x", "北京"],
        notes="note 🙂 ]]> \ud7ff",
        consent_email=True,
        external_id="'quoted",
        custom_fields={
            "wechat": "=wx <&>",
            "score": -3,
            "mobile": "+86 139 0000 1111",
            "levels": ["a", "b"],
            "active": True,
        },
    )
    ContactFactory(first_name="伟", last_name="张", email=None, phone=None, address=None)
    ContactFactory(
        first_name="Ann",
        last_name="",
        title="",
        notes="",
        custom_fields={"score": 0, "active": False},
    )


def reference(format: str, *, include_pii: bool, xml_as_list: bool = False) -> str:
    """The generic writers fed with ``ContactOutputSerializer`` records (custom fields last,
    as exports have always placed them)."""
    definitions = definitions_for("contact")
    context = {"can_view_pii": include_pii, "custom_field_definitions": definitions}
    stream = io.StringIO()
    columns = None
    if format == "csv":
        columns = [
            *representation.CONTACT.csv_columns(),
            *((f"custom_fields.{d.name}", d.name) for d in definitions),
        ]
    with open_writer(stream, format, columns=columns) as writer:
        for contact in Contact.objects.order_by("pk"):
            record = dict(ContactOutputSerializer(contact, context=context).data)
            record["custom_fields"] = record.pop("custom_fields")
            writer.write(record)
    return stream.getvalue()


@pytest.mark.parametrize("include_pii", [True, False])
@pytest.mark.parametrize("format", FORMATS)
def test_an_export_file_is_what_the_generic_writers_write(tricky, format, include_pii):
    stream = io.StringIO()

    count = exports.export_write(
        resource="contacts", format=format, filters={}, include_pii=include_pii, stream=stream
    )

    assert count == Contact.objects.count()
    assert stream.getvalue() == reference(format, include_pii=include_pii)


@pytest.mark.parametrize("format", FORMATS)
def test_worker_processes_write_the_same_document_as_one_process(tricky, format):
    ContactFactory.create_batch(4)
    definitions = definitions_for("contact")
    columns = [
        *representation.CONTACT.csv_columns(),
        *((f"custom_fields.{d.name}", d.name) for d in definitions),
    ]
    encoder = contact_encoder(
        format=format,
        can_view_pii=True,
        keys=settings.FIELD_ENCRYPTION_KEYS,
        definitions=definitions,
        columns=columns,
    )

    def document(processes: int) -> tuple[str, int]:
        pieces = list(
            contact_export_text(contact_list(), encoder, chunk_size=2, processes=processes)
        )
        return "".join(text for text, _ in pieces), sum(rows for _, rows in pieces)

    alone, in_workers = document(0), document(2)

    assert in_workers == alone
    assert alone[1] == Contact.objects.count() == 7


def test_a_narrowed_csv_has_the_columns_asked_for_in_their_order(tricky):
    columns = ["email", "id", ("custom_fields.wechat", "wechat"), "tags"]
    encoder = contact_encoder(
        format="csv",
        can_view_pii=True,
        keys=settings.FIELD_ENCRYPTION_KEYS,
        definitions=definitions_for("contact"),
        columns=columns,
    )
    stream = io.StringIO()
    with open_writer(stream, "csv", columns=columns) as writer:
        for contact in Contact.objects.order_by("pk"):
            context = {"can_view_pii": True, "custom_field_definitions": definitions_for("contact")}
            writer.write(ContactOutputSerializer(contact, context=context).data)

    text = "".join(piece for piece, _ in contact_export_text(contact_list(), encoder))

    assert text == stream.getvalue()


def test_an_export_abandoned_midway_leaves_no_worker_process_behind(tricky):
    """As when a client goes away mid-download, under a server that traps SIGTERM as gunicorn's
    workers do (the encoders reset it: Pool.terminate stops them with SIGTERM)."""
    ContactFactory.create_batch(4)
    encoder = contact_encoder(format="json", can_view_pii=True, keys=settings.FIELD_ENCRYPTION_KEYS)
    trapped = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        pieces = contact_export_text(contact_list(), encoder, chunk_size=1, processes=2)
        for _ in range(3):  # the start, the first chunk, then one from a worker
            next(pieces)
        closing = threading.Thread(target=pieces.close, daemon=True)
        closing.start()
        closing.join(timeout=30)

        assert not closing.is_alive(), "the worker processes did not stop"
        assert multiprocessing.active_children() == []
    finally:
        signal.signal(signal.SIGTERM, trapped)
        for child in multiprocessing.active_children():  # when failing: no stray processes
            child.kill()


def test_inside_a_daemonic_process_such_as_a_celery_prefork_worker_the_export_stays_in_it(tricky):
    """Billiard marks Celery's prefork workers daemonic for multiprocessing too, and a daemonic
    process may not have children: the chunks are then encoded in the process itself."""
    ContactFactory.create_batch(4)
    encoder = contact_encoder(
        format="csv",
        can_view_pii=True,
        keys=settings.FIELD_ENCRYPTION_KEYS,
        columns=representation.CONTACT.csv_columns(),
    )
    alone = "".join(text for text, _ in contact_export_text(contact_list(), encoder, processes=0))
    process = multiprocessing.current_process()
    process.daemon = True
    try:
        text, children = "", set()
        for piece, _ in contact_export_text(contact_list(), encoder, chunk_size=2, processes=2):
            text += piece
            children.update(multiprocessing.active_children())
    finally:
        process.daemon = False

    assert children == set()
    assert text == alone


def _document(queryset, encoder, *, processes: int, chunk_size: int = 2) -> tuple[str, int]:
    pieces = list(
        contact_export_text(queryset, encoder, chunk_size=chunk_size, processes=processes)
    )
    return "".join(text for text, _ in pieces), sum(rows for _, rows in pieces)


def _full_encoder(format: str, *, include_pii: bool = True):
    definitions = definitions_for("contact")
    columns = [
        *representation.CONTACT.csv_columns(),
        *((f"custom_fields.{d.name}", d.name) for d in definitions),
    ]
    return contact_encoder(
        format=format,
        can_view_pii=include_pii,
        keys=settings.FIELD_ENCRYPTION_KEYS,
        definitions=definitions,
        columns=columns,
    )


@pytest.fixture
def reads_spy(monkeypatch):
    """Counts the chunks handed to workers as queries (they read them themselves) and fails
    on any chunk of rows handed to them through the pipe."""
    from customers.representation import export_stream

    reads = []
    real = export_stream.contact_chunk_reads

    def spy(*args, **kwargs):
        for read in real(*args, **kwargs):
            reads.append(read)
            yield read

    def no_rows(*args, **kwargs):
        raise AssertionError("the rows were read here and sent to the workers")

    monkeypatch.setattr(export_stream, "contact_chunk_reads", spy)
    monkeypatch.setattr(export_stream, "_in_workers", no_rows)
    return reads


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("include_pii", [True, False])
@pytest.mark.parametrize("format", FORMATS)
def test_workers_reading_their_chunks_themselves_write_the_same_document(
    tricky, reads_spy, format, include_pii
):
    """Outside a transaction each worker reads its chunks on its own connection."""
    ContactFactory.create_batch(4, tags=["vip", "2026"])
    encoder = _full_encoder(format, include_pii=include_pii)

    alone = _document(contact_list(), encoder, processes=0)
    in_workers = _document(contact_list(), encoder, processes=2)

    assert in_workers == alone
    assert alone[1] == Contact.objects.count() == 7
    assert len(reads_spy) >= 3  # chunks after the first one, read by the workers
    assert Contact.objects.count() == 7  # this process's connection still works


@pytest.mark.django_db(transaction=True)
def test_workers_reading_a_narrowly_filtered_export_get_only_its_rows_and_their_tags(
    tricky, reads_spy
):
    """A filter spreads a chunk over a wide key range: the rows and tags of the contacts it
    leaves out in that range stay out."""
    owner = SalesUserFactory()
    for number in range(9):
        ContactFactory(
            owner=owner if number % 3 == 0 else None,
            tags=[f"t{number}", "common"],
            first_name=f"n{number}",
        )
    encoder = _full_encoder("csv")
    queryset = contact_list(actor=SYSTEM, filters={"owner": owner.pk})

    alone = _document(queryset, encoder, processes=0, chunk_size=1)
    in_workers = _document(queryset, encoder, processes=2, chunk_size=1)

    assert in_workers == alone
    assert in_workers[1] == 3
    assert ",common|t3," in in_workers[0]
    assert ",common|t1," not in in_workers[0] and ",common|t4," not in in_workers[0]
    assert len(reads_spy) == 3  # two chunks of one contact, then the (empty) rest


@pytest.mark.django_db(transaction=True)
def test_an_export_abandoned_midway_with_reading_workers_leaves_no_process_behind(tricky):
    """Under a server that traps SIGTERM, as gunicorn's workers do."""
    ContactFactory.create_batch(4)
    encoder = contact_encoder(format="json", can_view_pii=True, keys=settings.FIELD_ENCRYPTION_KEYS)
    trapped = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        pieces = contact_export_text(contact_list(), encoder, chunk_size=1, processes=2)
        for _ in range(3):
            next(pieces)
        closing = threading.Thread(target=pieces.close, daemon=True)
        closing.start()
        closing.join(timeout=30)

        assert not closing.is_alive(), "the worker processes did not stop"
        assert multiprocessing.active_children() == []
        assert Contact.objects.count() == 7
    finally:
        signal.signal(signal.SIGTERM, trapped)
        for child in multiprocessing.active_children():
            child.kill()


@pytest.mark.django_db(transaction=True)
def test_a_reading_worker_that_cannot_decrypt_a_chunk_fails_the_export_here(tricky, reads_spy):
    from cryptography.fernet import Fernet
    from django.db import connection

    from customers.crypto import FieldDecryptionError

    ContactFactory.create_batch(4)
    last = Contact.objects.order_by("pk").last()
    foreign = Fernet(Fernet.generate_key()).encrypt(b"x@example.com").decode()
    with connection.cursor() as cursor:  # a token under a key that is not configured
        cursor.execute(
            f"UPDATE {Contact._meta.db_table} SET email = %s WHERE id = %s", [foreign, last.pk]
        )
    encoder = contact_encoder(format="csv", can_view_pii=True, keys=settings.FIELD_ENCRYPTION_KEYS)

    with pytest.raises(FieldDecryptionError, match="email"):
        list(contact_export_text(contact_list(), encoder, chunk_size=2, processes=2))

    assert reads_spy
    assert multiprocessing.active_children() == []


def _bytes_document(queryset, encoder, *, processes: int) -> tuple[str, int]:
    pieces = list(
        contact_export_text(queryset, encoder, chunk_size=2, processes=processes, as_bytes=True)
    )
    assert all(type(data) is bytes for data, _ in pieces)
    return b"".join(data for data, _ in pieces).decode(), sum(rows for _, rows in pieces)


@pytest.mark.parametrize("format", FORMATS)
def test_pieces_as_bytes_are_the_document_in_utf8_from_workers_sent_rows(tricky, format):
    ContactFactory.create_batch(4)
    encoder = _full_encoder(format)

    assert _bytes_document(contact_list(), encoder, processes=2) == _document(
        contact_list(), encoder, processes=0
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("format", FORMATS)
def test_pieces_as_bytes_are_the_document_in_utf8_from_reading_workers(tricky, reads_spy, format):
    ContactFactory.create_batch(4)
    encoder = _full_encoder(format)

    assert _bytes_document(contact_list(), encoder, processes=2) == _document(
        contact_list(), encoder, processes=0
    )
    assert reads_spy


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_cannot_start_fails_the_export_here(tricky, monkeypatch):
    from customers.representation import export_stream

    def no_database(*args):
        raise RuntimeError("the database refused the worker")

    monkeypatch.setattr(export_stream, "_start_reader", no_database)
    ContactFactory.create_batch(4)
    encoder = contact_encoder(format="json", can_view_pii=True, keys=settings.FIELD_ENCRYPTION_KEYS)

    with pytest.raises(RuntimeError, match="refused the worker"):
        list(contact_export_text(contact_list(), encoder, chunk_size=2, processes=2))

    assert multiprocessing.active_children() == []
