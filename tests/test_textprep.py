"""Text preparation: quoted history dropped, whitespace normalised, size capped."""

from __future__ import annotations

import pytest

from triage.textprep import cap, prepare


def test_textprep_drops_quoted_history() -> None:
    text = ("Still broken. Fix it.\n\nOn Tue, 3 Mar 2026, Support <help@x.com> wrote:\n"
            "> We are sorry for the trouble\n> Regards")
    assert prepare(text) == "Still broken. Fix it."


def test_textprep_keeps_text_that_is_only_quotes() -> None:
    assert prepare("> only a quote") == "> only a quote"


def test_textprep_unescapes_and_collapses() -> None:
    assert prepare("a &amp;   b\t\tc") == "a & b c"


def test_textprep_cap_keeps_head_and_tail() -> None:
    text = "A" * 100 + "B" * 100
    capped = cap(text, 40)
    assert capped.startswith("A" * 30) and capped.endswith("B" * 10)


@pytest.mark.parametrize(("text", "masked"), [
    ("Hi, this is Lakisha Washington. My card was stolen\n\nThanks,\nLakisha",
     "Hi, this is [name]. My card was stolen\n\nThanks,\n[name]"),
    ("I was overcharged.\n\n(writing from Mexico City)", "I was overcharged.\n\n(writing from [place])"),
    ("Hi, Nadia here. my card", "Hi, [name] here. my card"),
    ("refund now\n- Ana", "refund now\n- [name]"),
    ("help\n\nKind regards\nJosé García\nAcme Ltd\n+44 123", "help\n\nKind regards\n[name]\n[signature]"),
    ("I am in Lagos and my card is blocked", "I am in [place] and my card is blocked"),
])
def test_textprep_masks_names_and_places_where_people_state_them(text: str, masked: str) -> None:
    assert prepare(text) == masked


@pytest.mark.parametrize("text", [
    "Thanks, all sorted now!", "thanks for nothing", "This is ridiculous, I want a refund",
    "Hello, this is the third time I write", "I was charged twice. Thanks", "sent from my iPhone",
    "Thanks,\nI will wait",
])
def test_textprep_leaves_ordinary_text_alone(text: str) -> None:
    assert prepare(text) == text


@pytest.mark.parametrize(("text", "masked"), [
    ("The booking is in the name of Tendai Moyo.", "The booking is in the name of [name]."),
    ("I'm writing on behalf of Mrs. Ferreira, she is 90.",
     "I'm writing on behalf of [name], she is 90."),
    ("My husband Kenji called twice and your agent Dolores hung up.",
     "My husband [name] called twice and your agent [name] hung up."),
    ("I spoke with Bartholomew yesterday", "I spoke with [name] yesterday"),
    ("The parcel went to your depot in Rotterdam instead of Antwerp.",
     "The parcel went to your depot in [place] instead of [place]."),
    ("Flight from Rio de Janeiro to Nairobi was cancelled, I'm stuck in Kenya!",
     "Flight from [place] to [place] was canceled, I'm stuck in [place]!"),
    ("We moved to Tennessee. Dr Okonkwo needs the records.",
     "We moved to [place]. [name] needs the records."),
])
def test_textprep_masks_names_and_places_inside_sentences(text: str, masked: str) -> None:
    assert prepare(text) == masked


@pytest.mark.parametrize("text", [
    "URGENT: the App crashes since Monday in January, call Customer Service",
    "I use Chrome on my Mac and the PDF will not open", "@Lagos_Air why is my bag lost?",
    "My colleague is furious", "the agent said no", "Please Reading Mobile Nice",
    "I told your agent I wanted a refund and spoke to I don't know who",
])
def test_textprep_masking_spares_ordinary_capitalised_words(text: str) -> None:
    assert prepare(text) == text


def test_textprep_place_list_ships_with_the_package() -> None:
    from triage.textprep import places

    known = places()
    assert len(known) > 20_000
    assert {"Rotterdam", "Kenya", "Tennessee", "Rio de Janeiro"} <= known
    assert not {"Mobile", "Reading", "Nice", "Chrome", "January"} & known


@pytest.mark.parametrize("name", [
    "Wei Zhang", "Nguyen Thi Mai", "Min-jun Kim", "Hiroshi Tanaka", "Priya Raghunathan",
    "Mohammed Al-Rashid", "Fatima Haddad", "Chinedu Okafor", "Kwame Mensah", "Aroha Ngata",
    "Oleksandr Kovalenko", "Agnieszka Nowak", "José García", "Jose Garcia", "Sven Lindqvist",
    "Nomvula Dlamini", "Emily Walsh",
])
def test_textprep_masks_uncued_names_from_many_cultures(name: str) -> None:
    assert prepare(f"I sent the form to {name} yesterday.") == \
        "I sent the form to [name] yesterday."
    assert prepare(f"My card broke. {name} says the same.") == "My card broke. [name] says the same."
    assert prepare(f"{name} and I both have this problem.") == \
        "[name] and I both have this problem."


@pytest.mark.parametrize(("text", "masked"), [
    ("Ask Priya, she knows.", "Ask [name], she knows."),
    ("I gave it to Oluwaseun Adeyemi's brother.", "I gave it to [name]'s brother."),
    ("I emailed Priya. Wei Zhang never answered.", "I emailed [name]. [name] never answered."),
    ("Hi Mike. I'm still waiting", "Hi [name]. I'm still waiting"),
])
def test_textprep_masks_name_runs_and_keeps_punctuation(text: str, masked: str) -> None:
    assert prepare(text) == masked


@pytest.mark.parametrize("text", [
    "Will you refund me? Mark my words, I will leave.", "I hope you can help, Bill me later",
    "May I ask why? Frank answer please.", "The Rose Gold case and the Grace Period",
    "Faith left us, no Hope", "Priya said it was fine",  # a lone name opening a sentence
    "It broke on 3 Jan and again in Sep", "I WILL SUE YOU", "I told Support about it",
])
def test_textprep_name_masking_spares_ordinary_and_sentence_initial_words(text: str) -> None:
    assert prepare(text) == text


@pytest.mark.parametrize(("text", "masked"), [
    ("our Social Media team", "our Social Media team"),  # "Media" is a name and a word
    ("the app is written in Swift", "the app is written in Swift"),
    ("tickets for Taylor Swift", "tickets for [name]"),
    ("Ask Lee now", "Ask [name] now"),  # a name in many cultures' lists: a name first
    ("I met John Smith in China's capital", "I met [name] in [place]'s capital"),
])
def test_textprep_names_that_are_words_are_masked_only_beside_a_name(text: str,
                                                                      masked: str) -> None:
    assert prepare(text) == masked


def test_textprep_name_list_ships_with_the_package() -> None:
    from triage.textprep import name_words, names

    known = names()
    assert len(known) > 30_000
    assert {"Media", "Swift"} <= name_words() and not known & name_words()
    assert {"Wei", "Zhang", "Nguyen", "Kim", "Min-jun", "Priya", "Mohammed", "Chinedu", "Nomvula",
            "Oleksandr", "Nowak", "Aroha", "Hiroshi", "García", "Garcia", "Lindqvist"} <= known
    assert not {"Will", "Mark", "Hope", "Bill", "Grace", "May", "Rose", "Sue", "Frank", "Faith",
                "Sandy", "January", "Jan", "Support", "Thanks"} & known


@pytest.mark.parametrize(("text", "normalised"), [
    ("My favourite colour is grey", "My favorite color is gray"),
    ("Cancelled! The CENTRE was closed, I apologise", "Canceled! The CENTER was closed, I apologize"),
    ("my mum paid by cheque for the tyres", "my mom paid by check for the tires"),
    ("Please organise the programme", "Please organize the program"),
    ("I practise daily; the buses and the disc are fine", "I practise daily; the buses and the disc are fine"),
])
def test_textprep_normalises_british_spelling_keeping_case(text: str, normalised: str) -> None:
    assert prepare(text) == normalised


def test_textprep_cue_words_cover_every_person_cue() -> None:
    from triage.textprep import _CUE_WORDS, _PERSON_CUE

    texts = ["in the name of Tendai", "on behalf of Ana", "the card holder is Ravi",
             "registered to Li", "it belongs to Mei", "addressed to Omar", "spoke to Kofi",
             "talked with Ewa", "chatted with Jun", "my neighbour Aiko", "our landlord Pavel",
             "their carer Ruth", "your agent Dolores", "the rep called Sam", "advisor Nia",
             "supervisor Kemal", "technician Bo", "engineer Ula", "driver Tiago",
             "courier Femi", "named Zola", "speaking with Ines"]
    for text in texts:
        match = _PERSON_CUE.search(text)
        assert match, text
        assert any(cue in match.group(0).lower() for cue in _CUE_WORDS), text


def test_textprep_cheap_tests_change_nothing() -> None:
    """`mask_identity` skips an expression when the text lacks a word it needs; on every
    sample, and on texts built to hit each expression (and the letters that match ASCII only
    under IGNORECASE), the result is what running every expression gives."""
    import json
    from pathlib import Path

    from triage import textprep as tp
    from triage.textprep import mask_identity

    def mask_identity_unfiltered(text: str) -> str:  # every expression on every text
        text = tp._INTRO.sub(lambda m: m.group(1) + "[name]", text)
        text = tp._HERE.sub(lambda m: m.group(1) + "[name]" + m.group(3), text)
        text = tp._SIGNOFF.sub(lambda m: m.group(1) + "[name]" + (
            "\n[signature]" if m.group(3).strip() else ""), text)
        text = tp._INLINE_SIGNOFF.sub(lambda m: m.group(1) + "[name]" + m.group(3), text)
        text = tp._DASH_SIGNOFF.sub(lambda m: m.group(1) + "[name]", text)
        text = tp._PAREN_NAME.sub("([name])", text)
        text = tp._PLACE.sub(lambda m: m.group(1) + m.group(2) + "[place]", text)
        text = tp._PERSON_CUE.sub(lambda m: m.group(1) + "[name]", text)
        text = tp._TITLE.sub("[name]", text)
        return tp._TITLE_RUN.sub(tp._mask_run, text)

    parts = Path(__file__).resolve().parents[1] / "data" / "samples" / "parts"
    texts = [json.loads(line)["text"] for path in sorted(parts.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += ["THIS IS Wei Zhang, writing FROM Lagos", "Hi, Tendai here.", "Kind regards,\nAna Lima",
              "thanks, Ravi", "Cheers, Tom!", "- Femi\n- Ola", "call me (Ewa Nowak)",
              "I'm in Glasgow", "Ms Okafor called", "spoke to Kofi Mensah", "Mr. Tan here",
              "thiſ is Wei Zhang", "Kind regardſ, Ana", "writing from Kraków", "I am in Lima now",
              "Best wishes, Liang", "my name's Aroha Ngata", "YOURS TRULY, BOB", "based in Ohio"]
    assert len(texts) > 10_000
    for text in texts:
        assert mask_identity(text) == mask_identity_unfiltered(text), text


@pytest.mark.parametrize(("text", "prepared"), [
    ("Can you ask Zixuan Ouyang to call me back?", "Can you ask [name] to call me back?"),
    ("I already sent it to Chidera last week.", "I already sent it to [name] last week."),
    ("Dae-ho Seok and I both have this problem.", "[name] and I both have this problem."),
    ("On Monday I wrote in English, thx.", "On Monday I wrote in English, thanks."),
    ("Thanks. Please Help, my Account is LOCKED", "Thanks. Please Help, my Account is LOCKED"),
    ("Follow-up: still nothing.", "Follow-up: still nothing."),
])
def test_textprep_masks_names_on_no_list_by_their_shape(text: str, prepared: str) -> None:
    assert prepare(text) == prepared


@pytest.mark.parametrize(("text", "prepared"), [
    ("Can you ask Yifei Situ to call me back?", "Can you ask [name] to call me back?"),
    ("Thuan Lieu says the same happened to them.", "[name] says the same happened to them."),
    ("Wei Zhang Refund team said no", "[name] Refund team said no"),
    ("I told Wei Zhang Yesterday", "I told [name] Yesterday"),
    ("Priya Support told me", "Priya Support told me"),  # one name opening a sentence stays
    ("In Situ testing is what we do.", "In Situ testing is what we do."),  # no name before
])
def test_textprep_reads_a_rare_word_after_a_name_as_the_rest_of_it(text: str,
                                                                   prepared: str) -> None:
    assert prepare(text) == prepared


def test_textprep_support_words_are_words_customers_write() -> None:
    from triage.textprep import support_words, words

    common = support_words()
    assert {"refund", "support", "team", "account", "yesterday", "card"} <= common
    assert not {"situ", "lieu"} & common
    assert common <= words() | {w for w in common if "'" in w}


@pytest.mark.parametrize(("text", "prepared"), [
    ("I'm gonna cancel, y'all ain't fixing it cos nobody cares",
     "I'm going to cancel, you all isn't fixing it because nobody cares"),
    ("Cheers mate, pls sort it, innit", "Thanks friend, please sort it, isn't it"),
    ("GONNA LEAVE. Dunno why I stayed", "GOING TO LEAVE. Don't know why I stayed"),
    ("Y’all lost the kids tickets", "You all lost the children tickets"),
    ("the cost of the cosmos kidswear mated cheersful",
     "the cost of the cosmos kidswear mated cheersful"),
])
def test_textprep_normalises_informal_forms_keeping_case(text: str, prepared: str) -> None:
    assert prepare(text) == prepared


def test_textprep_informal_cheap_test_changes_nothing() -> None:
    import json
    from pathlib import Path

    from triage import textprep as tp

    parts = Path(__file__).resolve().parents[1] / "data" / "samples" / "parts"
    texts = [json.loads(line)["text"] for path in sorted(parts.glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    changed = 0
    for text in texts + ["AIN’T", "Y'ALL", "ya'll gonna"]:
        full = tp._INFORMAL.sub(tp._standard, text)
        assert tp.normalise_informal(text) == full, text
        changed += full != text
    assert changed > 50  # the samples do use these forms
