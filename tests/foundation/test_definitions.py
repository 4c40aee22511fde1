from engine.runtime.site import Site
from engine.store.definitions import DefinitionRepository
from tests.helpers import SETUP


def test_publishing_creates_versions_and_retires_the_previous_one(site: Site) -> None:
    with site.session() as session:
        repo = DefinitionRepository(session)
        assert repo.publish(SETUP, "form", "hazard", {"title": "v1"}).version == 1
        assert repo.publish(SETUP, "form", "hazard", {"title": "v2"}).version == 2
        assert [(d.version, d.status) for d in repo.versions("form", "hazard")] == [(1, "retired"), (2, "published")]
        assert repo.current("form", "hazard").body == {"title": "v2"}
        assert repo.get("form", "hazard", 1).body == {"title": "v1"}


def test_publishing_the_same_body_again_changes_nothing(site: Site) -> None:
    with site.session() as session:
        repo = DefinitionRepository(session)
        repo.publish(SETUP, "form", "hazard", {"a": 1, "b": [1, 2]})
        again = repo.publish(SETUP, "form", "hazard", {"b": [1, 2], "a": 1})
        assert again.version == 1 and not again.created
        assert len(repo.versions("form", "hazard")) == 1


def test_a_draft_is_the_next_version_until_published(site: Site) -> None:
    with site.session() as session:
        repo = DefinitionRepository(session)
        repo.publish(SETUP, "flow", "permit", {"nodes": []})
        draft = repo.save_draft(SETUP, "flow", "permit", {"nodes": ["a"]})
        assert draft.version == 2 and repo.current("flow", "permit").version == 1
        repo.save_draft(SETUP, "flow", "permit", {"nodes": ["a", "b"]})
        assert len(repo.versions("flow", "permit")) == 2
        assert repo.publish(SETUP, "flow", "permit").version == 2
        assert repo.current("flow", "permit").body == {"nodes": ["a", "b"]}
