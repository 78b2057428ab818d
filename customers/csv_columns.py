"""Each entity's built-in CSV columns in order (dotted paths into its REST representation;
custom fields are appended by name). Every door that writes a CSV of records (the REST
renderer, the export jobs, the web list's download) takes them from here, so a file written
by one imports back through another."""

CONTACT = [
    "id",
    "external_id",
    "first_name",
    "last_name",
    "title",
    "company.id",
    "company.name",
    "email",
    "phone",
    "address",
    "lifecycle_stage",
    "source",
    "owner.id",
    "owner.username",
    "tags",
    "notes",
    "consent_email",
    "consent_phone",
    "consent_updated_at",
    "created_at",
    "updated_at",
]

COMPANY = [
    "id",
    "external_id",
    "name",
    "domain",
    "industry",
    "size_band",
    "country",
    "phone",
    "address",
    "owner.id",
    "owner.username",
    "tags",
    "created_at",
    "updated_at",
]

DEAL = [
    "id",
    "external_id",
    "name",
    "company.id",
    "company.name",
    "primary_contact.id",
    "primary_contact.full_name",
    "amount",
    "currency",
    "pipeline.id",
    "pipeline.name",
    "stage.id",
    "stage.name",
    "status",
    "expected_close_date",
    "closed_at",
    "owner.id",
    "owner.username",
    "tags",
    "created_at",
    "updated_at",
]

ACTIVITY = [
    "id",
    "external_id",
    "kind",
    "subject",
    "body",
    "due_at",
    "done_at",
    "contact.id",
    "contact.full_name",
    "company.id",
    "company.name",
    "deal.id",
    "deal.name",
    "author.id",
    "author.username",
    "created_at",
    "updated_at",
]

BY_ENTITY = {"contact": CONTACT, "company": COMPANY, "deal": DEAL, "activity": ACTIVITY}
