"""The README points only inside the repository: a reader of a fresh clone has nothing else."""

import re

from tests.project import readme
from tests.workers import BASE_DIR


def test_every_relative_link_in_the_readme_is_a_file_of_the_repository():
    text = readme.README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)

    relative = [target for target in targets if not re.match(r"[a-z]+:|#", target)]
    outside = [
        target
        for target in relative
        if not (BASE_DIR / target.split("#")[0]).resolve().is_relative_to(BASE_DIR)
        or not (BASE_DIR / target.split("#")[0]).exists()
    ]

    assert relative  # the architecture page at least
    assert outside == []


def test_the_readme_names_no_path_above_the_repository():
    text = readme.README.read_text(encoding="utf-8")

    assert re.findall(r"\.\./[\w./-]+", text) == []
