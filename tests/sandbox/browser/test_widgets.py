"""Actions on the widgets real apps are made of: each reports the state it produced (and never a failure
when the state changed), custom drop-downs, masks, files, scrolled containers, pages that keep loading."""

from __future__ import annotations

import pytest

from sandbox.browser import ElementNotFound, ElementNotInteractable

pytestmark = pytest.mark.browser


def test_check_reports_the_state_even_when_the_page_replaces_the_checkbox(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/rerendered-checkbox")
    done = browser.check(browser.find("checkbox", "Subscribe"))
    assert done.startswith("Clicked [") and "the page then replaced it" in done
    assert "+ subscribed: yes" in done
    again = browser.check(browser.find("checkbox", "Subscribe"))
    assert again.endswith('checkbox "Subscribe" was already checked; nothing was clicked.')


def test_check_says_the_state_it_produced_and_refuses_when_nothing_changed(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/switch")
    switch = browser.find("switch", "Dark mode")
    assert browser.check(switch).startswith(f'[{switch}] switch "Dark mode" is now checked.')
    assert browser.check(switch, False).startswith(f'[{switch}] switch "Dark mode" is now unchecked.')
    with pytest.raises(ElementNotInteractable, match="but it is still unchecked"):
        browser.check(browser.find("checkbox", "Locked in"))


def test_fill_retypes_a_masked_field_and_reports_its_real_value(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/masked-date")
    due = browser.find("textbox", "Due date")
    filled = browser.fill(due, "05/12/2024")
    assert filled.startswith(f'[{due}] textbox "Due date" now holds "05/12/2024".')
    assert "Due: 05/12/2024" in browser.text()
    formatted = browser.fill(due, "24122025")
    assert formatted.startswith(
        f'[{due}] textbox "Due date" now holds "24/12/2025" (given "24122025": the field '
        "formats or limits what it takes)."
    )


def test_select_types_into_a_searchable_combobox_and_picks_the_option(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/combobox")
    country = browser.find("combobox", "Country")
    chosen = browser.select(country, "Spain")  # not among the five shown before typing
    assert chosen.startswith(f'Selected "Spain" in [{country}] combobox "Country"; it shows "Spain".')
    assert "country=Spain" in browser.text()
    assert browser.select(country, "fin").startswith('Selected "Finland"')  # one option contains it
    with pytest.raises(ElementNotFound, match='has no option "Atlantis"; it offered "Austria", "Belgium"'):
        browser.select(country, "Atlantis")
    with pytest.raises(
        ElementNotFound, match='Several options .* contain "an": "Finland", "France", "Germany"'
    ):
        browser.select(country, "an")
    assert "country=Finland" in browser.text()


def test_select_and_check_operate_web_components_through_their_shadow_roots(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/shadow-widgets")
    team = browser.find("combobox", "Team")
    assert browser.select(team, "Engineering").startswith(
        f'Selected "Engineering" in [{team}] combobox "Team"; it shows "Engineering".'
    )
    assert "team=Engineering" in browser.text()
    remember = browser.find("checkbox", "Remember me")  # its input is under the label's styled box
    assert browser.check(remember).startswith(f'[{remember}] checkbox "Remember me" is now checked.')
    assert "remember=yes" in browser.text()


def test_select_follows_a_path_through_cascading_menus(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/cascader")
    place = browser.find("combobox", "Location")
    chosen = browser.select(place, "Europe / France / Paris")
    assert chosen.startswith(
        f'Selected "Europe / France / Paris" in [{place}] combobox "Location"; it shows '
        '"Europe / France / Paris".'
    )
    assert "location=Europe/France/Paris" in browser.text()
    assert browser.select(place, "Asia > Japan > Tokyo").startswith('Selected "Asia / Japan / Tokyo"')
    # The page's own tree, in sight before the drop-down opened, is not among its options.
    with pytest.raises(
        ElementNotFound,
        match='has no option "Europe / Spain"; it offered "Europe", "Asia", "France", "Germany"\\.',
    ):
        browser.select(place, "Europe / Spain")
    assert "location=Asia/Japan/Tokyo" in browser.text()


def test_select_in_a_listbox_without_search_and_in_options_named_by_classes(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/listbox-select")
    assert browser.select(browser.find("combobox", "Size"), "Large").startswith('Selected "Large" in [')
    assert "size=Large" in browser.text()
    colour = browser.select(browser.find("combobox", "Colour"), "Green")
    assert colour.startswith('Selected "Green"') and 'it shows "Green"' in colour
    assert "colour=Green" in browser.text()


def test_select_on_something_that_opens_no_list_says_so(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/listbox-select")
    with pytest.raises(ElementNotInteractable, match="opened no list of options"):
        browser.select(browser.find("combobox", "Broken"), "x")


def test_scroll_a_virtualised_list_reports_the_rows_it_shows(browser, action_pages) -> None:
    browser.goto(f"{action_pages.base_url}/virtual-list")
    events = browser.find("listbox", "Events")
    scrolled = browser.scroll(events, "down")
    assert scrolled.startswith(
        f'Scrolled [{events}] listbox "Events" down: showing 120-270 of 6000 px; rows 5-9 '
        'of 200 in sight; 5 rows in sight, from "Event 5" to "Event 9".'
    )
    assert "Event 9" in browser.text()
    bottom = browser.scroll(events, "bottom")
    assert "rows 196-200 of 200" in bottom and '"Event 200"' in bottom
    with pytest.raises(ElementNotInteractable, match="scrolls left"):
        browser.scroll(events, "left")


def test_scrolling_a_page_whose_window_does_not_scroll_moves_its_scrolling_area(
    browser, action_pages
) -> None:
    browser.goto(f"{action_pages.base_url}/virtual-list")
    scrolled = browser.scroll("down")
    assert scrolled.startswith(
        "Scrolled the page's scrolling area (the window does not scroll) down: showing "
        "120-270 of 6000 px; rows 5-9 of 200 in sight"
    )


def test_pages_are_ready_after_loaders_busy_regions_rendering_and_animations(browser, action_pages) -> None:
    assert "Report ready" in browser.goto(f"{action_pages.base_url}/spa")
    assert "12 orders" in browser.goto(f"{action_pages.base_url}/spa-busy")
    assert "Step 8" in browser.goto(f"{action_pages.base_url}/steps")
    browser.goto(f"{action_pages.base_url}/folder")
    assert "+ Button.tsx" in browser.click(browser.find("button", "Open src"))  # after the transition
    stuck = browser.goto(f"{action_pages.base_url}/spa-stuck")
    assert stuck.startswith(
        'Still loading: a busy indicator (div.spinner "Loading") was still shown after 2 s;'
    )
