"""The dashboard leads with the figures a manager asks for (issue 17, point 4): what it covers
and its filters in a side panel, the longer tables each on a page of their own."""

from tests.helpers import sign_in


def test_the_dashboard_leads_with_the_figures_and_keeps_filters_to_the_side(client, world):
    sign_in(client, world.ivan)
    content = client.get("/partnerships/kirklees/dashboard/").content.decode()
    main = content.split("<main")[1]
    glance = main.index("At a glance")
    assert glance < main.index("Open escalations by stage now")
    assert glance < main.index("Raised and resolved by quarter")
    # The filters come after the figures, folded in a side panel that says what is covered.
    assert glance < main.index("What the figures cover")
    assert main.index("What the figures cover") < main.index('id="filters"')
    assert 'class="govuk-details"' in main
    # The long tables are links to their own pages, not on the dashboard.
    assert "By nature of difference</caption>" not in main
    assert 'href="/partnerships/kirklees/dashboard/nature/?' in main
    assert 'href="/partnerships/kirklees/dashboard/learning/?' in main


def test_a_longer_table_has_a_page_of_its_own_with_the_same_filters(client, world):
    sign_in(client, world.ivan)
    response = client.get("/partnerships/kirklees/dashboard/nature/?stage=2")
    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1" in content and "By nature of difference</h1>" in content
    assert "Referral decision" in content
    assert "Back to the dashboard" in content
    assert client.get("/partnerships/kirklees/dashboard/learning/").status_code == 200
    assert client.get("/partnerships/kirklees/dashboard/no-such-table/").status_code == 404


def test_someone_without_the_partnerships_figures_cannot_open_a_table_page(client, world):
    sign_in(client, world.alice)
    assert client.get("/partnerships/kirklees/dashboard/nature/").status_code == 404
    sign_in(client, world.mallory)
    assert client.get("/partnerships/kirklees/dashboard/nature/").status_code == 404
