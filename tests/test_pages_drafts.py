"""Not losing work (issue 17, point 10): "Save and come back later" is a button that keeps
what was typed on the page as a draft, then confirms it."""

from escalations.drafts import DraftChallenge
from tests.helpers import sign_in
from tests.test_pages_raise import walk


def test_save_and_come_back_later_is_a_button_in_the_form(client, world):
    sign_in(client, world.alice)
    url = walk(client, world, stop_at="details")
    content = client.get(url).content.decode()
    form = content.split("<main")[1].split('<form method="post"')[1].split("</form>")[0]
    assert 'name="save_for_later"' in form
    assert ">Save and come back later</button>" in form


def test_saving_keeps_what_was_typed_and_confirms_it(client, world):
    sign_in(client, world.alice)
    url = walk(client, world, stop_at="details")
    typed = "CSC declined the referral although the school reported new bruising."
    response = client.post(url, {"details": typed, "save_for_later": "1"})
    draft = DraftChallenge.objects.get()
    assert response["Location"] == f"/raise/drafts/{draft.pk}/saved/"
    assert draft.answers["details"] == typed
    confirmation = client.get(response["Location"]).content.decode()
    assert "Your answers have been saved" in confirmation
    assert "Challenge about Poppy Testwell" in confirmation
    # Coming back carries on after the saved page, with the words kept.
    assert client.get(f"/raise/drafts/{draft.pk}/")["Location"].endswith("/outcome/")
    assert typed in client.get(url).content.decode()


def test_a_page_saved_half_done_keeps_its_valid_answers_and_is_asked_again(client, world):
    sign_in(client, world.alice)
    url = walk(client, world, stop_at="child")
    response = client.post(
        url, {"child_kind": "child", "given_names": "Ada", "family_name": "", "save_for_later": "1"}
    )
    draft = DraftChallenge.objects.get()
    assert response["Location"] == f"/raise/drafts/{draft.pk}/saved/?unfinished=1"
    assert draft.answers["given_names"] == "Ada"
    assert "child_kind" not in draft.answers
    assert "were not complete" in client.get(response["Location"]).content.decode()
    assert client.get(f"/raise/drafts/{draft.pk}/")["Location"].endswith("/child/")
    assert 'value="Ada"' in client.get(url).content.decode()


def test_nobody_else_sees_the_saved_confirmation(client, world):
    sign_in(client, world.alice)
    url = walk(client, world, stop_at="details")
    client.post(url, {"details": "Typed.", "save_for_later": "1"})
    draft = DraftChallenge.objects.get()
    sign_in(client, world.bob)
    assert client.get(f"/raise/drafts/{draft.pk}/saved/").status_code == 404
