"""qa.answer_types: what kind of answer a question asks for, and whether a text states one."""

from __future__ import annotations

import numpy as np
import pytest

from qa import answer_types
from qa.embedding import get_embedder
from qa.lexicon import Lexicon, words


def _lacks(question: str, text: str) -> str | None:
    """answer_types.lacks for a question over a corpus of one text (its words the vocabulary),
    counted as one chunk of ten (so none of its names is the corpus's topic)."""
    vocab = sorted(set(words(text)))
    lexicon = Lexicon(vocab, get_embedder().encode(vocab), np.ones(len(vocab)), 10)
    qwords = words(question)
    types = answer_types.of_question(question, qwords, get_embedder().encode(qwords), lexicon)
    return answer_types.lacks(types, text, lexicon)


@pytest.mark.parametrize(
    ("question", "money"),
    [
        ("How much does a ticket to the crater cost?", True),
        ("What was the company's revenue last year?", True),
        ("How much money did the project raise?", True),
        ("How much revenue does the park make each year?", True),
        ("How much progress did the survey make?", False),
        ("What does a guided tour cost?", True),
        ("What fines can regulators impose for violations?", True),
        ("How large are the fines?", True),
        ("What fine-tuning options exist?", False),
        ("In dollar terms, what does the park add to the town's sales?", True),
        ("What are sales teams doing?", False),
        ("What does the park charge per visitor?", True),
        ("What was Etna Tours Group's revenue last quarter?", True),
        ("What is the opportunity cost of a climb?", False),
        ("What does the survey pay attention to?", False),
        ("How much of the island is covered by lava?", False),
        ("Do visitors pay to climb Etna?", False),
        ("When did Etna erupt?", False),
        ("What is Etna Tours Group's current market capitalization?", True),
        ("What is Etna Tours Group's annual revenue from climbs?", True),
        ("Give the dollar figures for the park's spending.", True),
        ("What is its valuation today", True),
        ("What is the revenue model of the park?", False),
        ("What is the main cost driver of a climb?", False),
        ("etna tours pricing per visitor", True),
        ("How do the guides market the capital's tours?", False),
        ("What penalties does the park impose on litter?", True),
        ("How steep are the penalties?", True),
        ("What does the penalty area mean?", False),
        ("What is Etna Tours Group's stock price?", True),
        ("How has the share price moved?", True),
        ("What share of visitors climb?", False),
        ("How many billions is the park spending on new trails in 2026?", True),
        ("How many dollars does a guided tour cost?", True),
        ("How many millions of visitors climb each year?", False),
        ("How many billions of years old is the rock?", False),
        ("etna guided climb cost", True),
        ("cost of a guided climb", True),
        ("etna tours annual revenue?", True),
        ("etna climb opportunity cost", False),
        ("cost structure of the park", False),
        ("why the climb costs", False),
        ("What revenue did Etna Tours report last quarter?", True),
        ("What fees does the park charge?", True),
        ("I need the per-visitor price the park charges for a climb.", True),
        ("What price war is going on between the guides?", False),
        ("etna guided climb price per person", True),
        ("cost per visitor of the new trail", True),
    ],
)
def test_questions_about_an_amount_of_money_are_told_apart(question, money) -> None:
    assert bool(answer_types.ASKS_MONEY.search(question)) is money


@pytest.mark.parametrize(
    "question", ["What's the price per million tokens?", "What’s the company's revenue?"]
)
def test_a_contracted_what_is_asks_as_what_is(question) -> None:
    assert _lacks(question, "The tour group serves 290,000 visitors a year.") == "amount of money"
    assert _lacks(question, "Tours cost 40 euros per visitor.") is None


@pytest.mark.parametrize(
    ("text", "money"),
    [("It costs $5.", True), ("priced at 20 euros", True), ("2.5 billion yuan", True), ("USD 300", True),
     ("The models are freely available.", True), ("It erupted in 1669.", False), ("ten percent", False)],
)  # fmt: skip
def test_amounts_of_money_are_recognized(text, money) -> None:
    assert bool(answer_types.MONEY.search(text)) is money


@pytest.mark.parametrize(
    ("question", "when"),
    [("When did Etna erupt?", True), ("What year did Etna erupt?", True), ("Since when has it grown?", True),
     ("In which month and year was it measured?", True), ("Which decade saw the eruption?", True),
     ("What do hikers face when they climb Etna?", False), ("Why do glaciers melt?", False)],
)  # fmt: skip
def test_when_asks_only_as_a_question_word(question, when) -> None:
    assert bool(answer_types.ASKS_WHEN.search(question)) is when


@pytest.mark.parametrize(
    ("text", "date"),
    [("It erupted in 1669.", True), ("in the 1990s", True), ("since August", True), ("last year", True),
     ("three years ago", True), ("ten percent of the land", False), ("300 models", False)],
)  # fmt: skip
def test_dates_are_recognized(text, date) -> None:
    assert bool(answer_types.DATE.search(text)) is date


@pytest.mark.parametrize(
    ("question", "name"),
    [("Which company's platform strategy is it likened to?", True), ("Through which Alibaba service?", True),
     ("Which research organization is cited?", True), ("What reasoning model came out in 2026?", True),
     ("What do robot makers use Qwen for?", False), ("Which industries use Qwen?", False),
     ("Whose models is the plan compared to?", True), ("Who won the cup?", False)],
)  # fmt: skip
def test_questions_that_ask_for_a_name_are_told_apart(question, name) -> None:
    assert answer_types.asks_name(question, answer_types.asked_kind(question)) is name


def test_a_name_counts_unless_the_question_has_it_or_the_whole_corpus_does() -> None:
    vocab = ["amazon", "iapp", "qwen", "r1"]
    lexicon = Lexicon(vocab, np.zeros((4, 2), np.float32), np.array([1, 1, 90, 2]), 100)
    names = answer_types.NamesOther(["company", "likened"], lexicon)
    assert names.search("This strategy parallels platform plays like Amazon Web Services.")
    assert names.search("Source: Based on reporting from IAPP research.")  # IAPP, not "Based"
    assert names.search("DeepSeek's R1 came out in January.")
    assert not names.search("Companies that build on Qwen become dependent.")  # opening word; topic
    assert not names.search("Over 290,000 customers use it.")
    assert not names.search("It had 290,000 customers as of January 2026.")  # a date, not a name
    assert not answer_types.NamesOther(["iapp", "cited"], lexicon).search("It cites IAPP research.")


@pytest.mark.parametrize(
    ("question", "share"),
    [("What share of the land do glaciers cover?", True), ("What is Alibaba's share of the market?", True),
     ("What is Qwen's market share among Chinese platforms?", True), ("How big a share do they hold?", True),
     ("What percentage of water is fresh?", True), ("How much of the island is lava?", False),
     ("What is the reason firms share data?", False)],
)  # fmt: skip
def test_questions_about_a_share_are_told_apart(question, share) -> None:
    assert bool(answer_types.ASKS_SHARE.search(question)) is share


@pytest.mark.parametrize(
    ("text", "share"),
    [("about ten percent", True), ("half of it", True), ("35% of the market", True), ("one in five firms", True),
     ("a third of users", True), ("It has 290,000 customers.", False), ("Glaciers hold fresh water.", False)],
)  # fmt: skip
def test_a_share_is_a_percentage_or_a_fraction_not_any_number(text, share) -> None:
    assert bool(answer_types.SHARE.search(text)) is share


@pytest.mark.parametrize(
    ("question", "counted"),
    [("How many Qwen customers are outside China?", "customers"), ("How many API calls per day?", "calls"),
     ("How many people live near Etna?", "people"), ("What is the number of glaciers?", "glaciers"),
     ("How many of Etna's visitors come back?", "visitors"),
     ("How many of the 290,000 Qwen customers are outside China?", "customers"),
     ("How many times did it grow?", None), ("How much lava flowed?", None), ("Why do glaciers melt?", None),
     ("In terms of parameter count, how big is the largest model?", "parameter"),
     ("What is its user count as of 2026?", "user"), ("Can we count on it?", None), ("Does the count matter?", None),
     ("Why is API growth more telling than the number of customers?", None),
     ("qwen customers number", "customers"), ("qwen daily api call volume", "call"),
     ("etna visitors total?", "visitors"), ("qwen latest version number", None),
     ("How does the rising volume of API usage help?", None), ("How many billions is it spending?", None)],
)  # fmt: skip
def test_the_counted_thing_is_the_first_plural_after_how_many_or_the_word_before_count(
    question, counted
) -> None:
    assert answer_types.counted_word(question, words(question)) == counted


@pytest.mark.parametrize(
    ("text", "counts"),
    [("Alibaba has released over 300 models.", True), ("It released 300 open models.", True),
     ("The models number 300 in all.", True), ("Qwen2.5 models are open.", False), ("COVID-19 models spread.", False),
     ("It has 300 customers.", False), ("Three hundred models were released.", True),
     ("Open models grew 15x in a year.", False), ("A 15-fold rise in open models.", False),
     ("40% of models are open.", False), ("Models tripled, three times the count.", False)],
)  # fmt: skip
def test_a_number_counts_models_only_beside_models(text, counts) -> None:
    vocab = sorted(set(words(text)) | {"models"})
    lexicon = Lexicon(vocab, get_embedder().encode(vocab), np.ones(len(vocab)), 1)
    question = "How many models has Alibaba released?"
    qwords = words(question)
    types = answer_types.of_question(question, qwords, get_embedder().encode(qwords), lexicon)
    assert types.counted == "models"
    assert (answer_types.lacks(types, text, lexicon) is None) is counts


@pytest.mark.parametrize(
    ("text", "counts"),
    [("Sectors: robotics, healthcare, education, finance", True),
     ("It spans robotics, healthcare and finance sectors.", True),
     ("Robotics, healthcare and finance firms use it.", False), ("It spans many sectors.", False)],
)  # fmt: skip
def test_a_list_counts_its_items_beside_the_counted_word(text, counts) -> None:
    vocab = sorted(set(words(text)) | {"sectors"})
    lexicon = Lexicon(vocab, get_embedder().encode(vocab), np.ones(len(vocab)), 1)
    question = "How many sectors use it?"
    qwords = words(question)
    types = answer_types.of_question(question, qwords, get_embedder().encode(qwords), lexicon)
    assert (answer_types.lacks(types, text, lexicon) is None) is counts


@pytest.mark.parametrize(
    ("question", "comparison"),
    [("Which company's strategy is it likened to?", True), ("What past technologies is its role compared to?", True),
     ("Is Etna similar to Vesuvius?", True), ("Which company makes Qwen?", False), ("Why do glaciers melt?", False),
     ("How does its compute investment compare with the US?", True),
     ("By how much have API calls grown compared with a year earlier?", False),
     ("How did revenue grow compared to the previous quarter?", False),
     ("How large was the rise compared with last year?", False),
     ("What historical technologies might Qwen become as fundamental as?", True),
     ("Name the technologies it could become as foundational as.", True),
     ("Is it as big as they say it is?", False),
     ("Which American company's open models is Alibaba trying to emulate?", True),
     ("Whose strategy is the plan modeled on?", True)],
)  # fmt: skip
def test_questions_that_ask_for_a_comparison_are_told_apart(question, comparison) -> None:
    assert bool(answer_types.ASKS_COMPARISON.search(question)) is comparison


@pytest.mark.parametrize(
    ("text", "comparison"),
    [("This strategy parallels platform plays like Amazon Web Services.", True),
     ("It could become as foundational to AI as x86 chips were to computing.", True),
     ("The plan is similar to how Meta's Llama models spread.", True),
     ("Robotics as well as healthcare firms use it.", False), ("Etna erupted in 1669.", False),
     # "like" after a plural gives an example, unless a verb says it compares
     ("Whether Chinese AI platforms like Qwen will remain domestic is open.", False),
     ("The trail is like a staircase.", True), ("The park works like a museum.", True),
     ("It grew like a weed.", True)],
)  # fmt: skip
def test_comparisons_are_recognized(text, comparison) -> None:
    assert bool(answer_types.COMPARISON.search(text)) is comparison


@pytest.mark.parametrize(
    ("question", "several"),
    [("Which industries are Qwen's customers in?", True), ("What kinds of AI infrastructure is China funding?", True),
     ("What paid offerings does Alibaba sell?", True), ("What outlets or organizations is the piece based on?", True),
     ("What makes Alibaba a central player?", False), ("What business does Alibaba run?", False),
     ("Which countries' spending is China expected to match?", False), ("What is the newest model called?", False),
     ("What analysis is used?", False), ("How many sectors use it?", False),
     ("List the strategic upsides Alibaba gets from open models.", True), ("Name its rivals.", True),
     ("Name a car company that uses Qwen.", False), ("Name one reason it matters.", False),
     ("List the model's name.", False),
     ("Tell me the strategic upsides Alibaba gets from giving its models away.", True),
     ("Give me the 2026 priorities listed in the metrics summary.", True),
     ("Tell me how banks and other financial firms are applying it.", False), ("Tell me about its customers.", False),
     ("Summarize the advantages Alibaba gets from releasing its models openly.", True),
     ("Outline the risks of iterative regulation.", True), ("Summarize the article.", False)],
)  # fmt: skip
def test_questions_that_ask_for_several_things_are_told_apart(question, several) -> None:
    assert bool(answer_types.ASKS_LIST.search(question)) is several


@pytest.mark.parametrize(
    ("question", "text", "lacking"),
    [("When does the AI Act come into force?", "The Act was adopted in 2024 after long talks.", "date of entry into force"),
     ("When does the AI Act come into force?", "The AI Act entered into force on 1 August 2024.", None),
     ("When did the interim measures take effect?", "The measures took effect in August 2023.", None),
     ("When does the AI Act come into force?", "A major force since August 2023, the firm grew.", "date of entry into force"),
     ("When does the AI Act come into force?", "The Act is a comprehensive set of rules.", "date")],
)  # fmt: skip
def test_when_a_rule_comes_into_force_needs_a_passage_that_says_so(question, text, lacking) -> None:
    assert _lacks(question, text) == lacking


@pytest.mark.parametrize(
    ("question", "text", "lacking"),
    [("How many visitors did the park have a year before the 290,000 figure?",
      "The park had over 290,000 visitors as of January 2026, and sales surged 15x year-over-year.", "earlier figure"),
     ("How many visitors did the park have a year earlier?",
      "The park had 290,000 visitors in 2026, up from 120,000.", None),
     ("How many visitors did the park have a year ago?",
      "It had 290,000 visitors, against 120,000 a year earlier.", None),
     ("How many visitors does the park have?", "The park had over 290,000 visitors as of January 2026.", None)],
)  # fmt: skip
def test_a_count_at_an_earlier_time_needs_an_earlier_figure(question, text, lacking) -> None:
    assert _lacks(question, text) == lacking


@pytest.mark.parametrize(
    ("question", "text", "lacking"),
    [("By what margin did the park beat its rival?", "The park overtook its rival in visitors.", "figure"),
     ("By how much did visits grow?", "Visits surged 15x year-over-year.", None),
     ("By how much did visits grow?", "Visits doubled.", None),
     ("By what factor did visits grow?", "Visits grew as the trails opened.", "figure"),
     ("By how much did visits grow?", "Visits grew after Trail2.5 opened.", "figure")],
)  # fmt: skip
def test_a_margin_needs_a_figure(question, text, lacking) -> None:
    assert _lacks(question, text) == lacking


@pytest.mark.parametrize(
    ("question", "text", "lacking"),
    [("Why did the council ban climbing on Etna?", "The council regulates climbing on Etna with permits.",
      "mention of a ban"),
     ("Why is climbing banned on Etna?", "Restrictions on climbing Etna followed the eruption.", None),
     ("Did the council ban climbing on Etna?", "The council regulates climbing on Etna with permits.", None),
     ("Why did Etna Tours acquire its rival?", "Etna Tours grew fast and hired guides.", "mention of an acquisition"),
     ("What deal let the park resume night climbs?", "The park runs night climbs in summer.", "mention of resuming"),
     ("The park has overtaken Vesuvius in visitors - by what margin?", "The park drew 290,000 visitors.",
      "mention of overtaking"),
     ("Why was Etna Tours fined?", "Etna Tours opened 30 trails.", "mention of a fine or lawsuit"),
     ("How can guides fine-tune the maps?", "Guides can customize the maps.", None),
     ("Now that the council has lifted its ban, how do guides work?", "Restrictions on climbing remain in force.",
      "mention of lifting"),
     ("How did the park's partnership with Vesuvius shape its trails?", "The park opened 30 trails.",
      "mention of a partnership"),
     ("How did the park's partnership with Vesuvius shape its trails?", "The park and Vesuvius are partners.", None)],
)  # fmt: skip
def test_a_question_that_takes_an_event_for_granted_needs_a_passage_that_mentions_one(
    question, text, lacking
) -> None:
    assert _lacks(question, text) == lacking


def test_a_sentence_that_lists_what_is_asked_for_ranks_higher() -> None:
    vocab = ["customers", "industries", "qwen", "robotics", "healthcare", "education", "finance", "breadth"]
    lexicon = Lexicon(vocab, get_embedder().encode(vocab), np.ones(len(vocab)), 1)
    question = "Which industries are Qwen's customers in?"
    qwords = words(question)
    types = answer_types.of_question(question, qwords, get_embedder().encode(qwords), lexicon)
    listing = "Qwen has customers across robotics, healthcare, education and finance."
    assert any(t.search(listing) for t in types.rank)
    assert not any(t.search("The breadth of Qwen's customer base spans industry.") for t in types.rank)


@pytest.mark.parametrize(
    ("question", "role"),
    [("Who is Alibaba's CEO?", "CEO"), ("Who is the current CEO of Alibaba Group?", "CEO"),
     ("Who founded Alibaba?", "founder"), ("Who's the head of the Qwen team?", "head"), ("Who leads it?", "leader"),
     ("Who developed the R1 model?", None), ("Who won the 2022 World Cup?", None),
     ("Who is Alibaba's biggest rival?", None), ("Who is in charge of the Qwen team?", "head"),
     ("Who is the Alibaba executive in charge of the Qwen program?", "executive")],
)  # fmt: skip
def test_who_questions_about_a_role_are_told_apart(question, role) -> None:
    qwords = words(question)
    lexicon = Lexicon(qwords, get_embedder().encode(qwords), np.ones(len(qwords)), 1)
    assert answer_types.of_question(question, qwords, get_embedder().encode(qwords), lexicon).role == role


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("Who is the company's CEO?", "Chief executive Eddie Wu spoke on Monday.", True),
     ("Who co-founded the company?", "Its cofounder Joe Tsai spoke.", True),
     ("Who is the company's CEO?", "The company's CEO, Eddie Wu, spoke.", True),
     ("Who is the company's CEO?", "The company has 290,000 customers and many companies use it.", False),
     ("Who is the company's CEO?", "The corporation sells cloud services.", False),
     ("Who founded the company?", "Jack Ma is its founder.", True),
     ("Who founded the company?", "It was established by Jack Ma in 1999.", True),
     ("Who founded the company?", "The company sells cloud services.", False),
     ("Who leads the team?", "The team is led by Zhou Jingren.", True),
     ("Who is in charge of the team?", "Zhou Jingren heads the team.", True),
     ("Who is in charge of the team?", "The team has released over 300 models.", False)],
)  # fmt: skip
def test_a_passage_answers_a_role_only_when_it_mentions_the_role(question, text, answers) -> None:
    assert (_lacks(question, text) is None) is answers


@pytest.mark.parametrize(
    ("text", "listed"),
    [("Sectors: robotics, healthcare, education", True), ("It spans robotics, healthcare and finance.", True),
     ("It brings benefits: it cuts licensing costs, creates a community of developers, and sets a standard.", True),
     ("The note: it rained, and we left.", False), ("He said: it works, mostly.", False),
     ("The breadth of its customer base spans industry.", False)],
)  # fmt: skip
def test_lists_are_recognized_with_short_items_or_clauses_after_a_colon(text, listed) -> None:
    assert bool(answer_types.LIST.search(text)) is listed


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("When was the company founded?", "The company was founded in 1999 in Hangzhou.", True),
     ("In what year was the company founded?", "Its founders set it up in 1999.", True),
     ("When was the company established?", "The company was founded in 1999.", True),
     ("When was the company founded?", "The company open-sourced its models in August 2023.", False),
     ("When did the company open-source its models?", "The company open-sourced its models in August 2023.", True)],
)  # fmt: skip
def test_a_founding_date_is_answered_only_by_a_passage_about_the_founding(question, text, answers) -> None:
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "founding date"


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("When did Alibaba first launch the Qwen model family?", "Qwen serves 290,000 customers as of January 2026.", False),
     ("When did Alibaba first launch the Qwen model family?", "Alibaba launched Qwen in April 2023.", True),
     ("When was DeepSeek's R1 released?", "DeepSeek's R1 model, released in January 2026, surprised many.", True),
     ("When was DeepSeek's R1 released?", "DeepSeek's R1 model debuted in January 2026.", True),
     ("What year did Alibaba launch Model Studio?", "Model Studio had 290,000 customers in 2026.", False),
     ("When will Alibaba release Qwen 4?", "Qwen version 4 is due in March.", True),
     ("When did Alibaba open-source its models?", "Since August 2023, Alibaba has open-sourced 300 models.", True),
     ("When did Alibaba start open-sourcing models, and how many has it released?",
      "Since August 2023, Alibaba has open-sourced over 300 models.", True)],
)  # fmt: skip
def test_a_past_launch_date_is_answered_only_by_a_passage_about_a_launch(question, text, answers) -> None:
    """A future release ("When will ... be released?") may be answered by "due in March"."""
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "launch or release date"


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("Which countries outside China have the most Qwen customers?", "Qwen is to Chinese AI what x86 was to PCs.", False),
     ("Which countries outside China have the most Qwen customers?", "Most users outside China are in Singapore.", True),
     ("Which countries' spending could China's buildout match?", "It may exceed investments by the United States and Japan.", True),
     ("Which countries' spending could China's buildout match?", "It may exceed American and Japanese investments.", True),
     ("Which countries has Alibaba launched Qwen in?", "Alibaba's Model Studio serves Nikkei and BYD.", False),
     ("What country is the Etna volcano in?", "Etna towers over Catania in Italy.", True),
     ("What country is the Etna volcano in?", "Etna towers over Catania in the European south.", False),
     ("Which kinds of countries adopt it first?", "Developing economies adopt it first.", True)],
)  # fmt: skip
def test_a_question_for_a_country_is_answered_only_by_a_passage_naming_another_one(
    question, text, answers
) -> None:
    """Names the question gives ("outside China") and regions ("European") are no answer."""
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "name of a country"


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("Which city is the company headquartered in?", "The company is headquartered in Hangzhou.", True),
     ("Where are its data centers located?", "Its data centers are located in Zhangbei and Ulanqab.", True),
     ("Which city is the company headquartered in?", "The company serves customers in China and abroad.", False),
     ("Where are its data centers located?", "It invests in data centers and chips.", False),
     ("Where is the company based?", "The Hangzhou-based company serves customers in China.", True),
     ("Where is the company based?", "The company is based out of Hangzhou.", True),
     ("Where is the company based?", "Source: Based on reporting from Asia Times.", False),
     ("Where is the company headquartered?", "Its cloud-based API serves customers in China.", False)],
)  # fmt: skip
def test_where_something_sits_is_answered_only_by_a_passage_that_places_it(question, text, answers) -> None:
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "location"


@pytest.mark.parametrize(
    ("question", "license"),
    [("What license are the open-source models released under?", True),
     ("Under which software license are the models published?", True), ("How are the models licensed?", True),
     ("Which licensing terms come with the weights?", True),
     ("What does licensing cost?", False), ("What models are released?", False),
     ("qwen open source license type", True), ("What kind of license do the weights carry?", True),
     ("qwen licensing costs", False)],
)  # fmt: skip
def test_questions_about_a_license_are_told_apart(question, license) -> None:
    assert bool(answer_types.ASKS_LICENSE.search(question)) is license


@pytest.mark.parametrize(
    ("text", "names"),
    [("Qwen models are released under the Apache 2.0 license.", True), ("It uses the MIT license.", True),
     ("The weights are licensed under the Tongyi Qianwen License Agreement.", True),
     ("It speeds adoption by eliminating licensing costs.", False), ("The models are free to download.", False)],
)  # fmt: skip
def test_a_license_is_named_or_licensed_under(text, names) -> None:
    assert bool(answer_types.LICENSE.search(text)) is names


@pytest.mark.parametrize(
    ("kind", "question"),
    [("ASKS_MONEY", "How much does a guided walk up Mount Etna with a guide cost?"),
     ("ASKS_MONEY", "What does a one-year subscription to Alibaba Cloud's Model Studio cost?"),
     ("ASKS_FOUNDING", "When was the Chinese e-commerce and cloud company Alibaba Group founded?"),
     ("ASKS_SEAT", "Where is the company that develops the Qwen family of models headquartered?"),
     ("ASKS_LICENSE", "How are the open-weight Qwen language models from Alibaba licensed?")],
)  # fmt: skip
def test_a_long_subject_does_not_hide_what_a_question_asks_for(kind, question) -> None:
    """Up to ten words may stand between the question word and the verb that says what it asks."""
    assert getattr(answer_types, kind).search(question)


@pytest.mark.parametrize(
    ("question", "drawback"),
    [("What are the drawbacks of China's loose AI rulemaking?", True), ("What is the downside for businesses?", True),
     ("Why might businesses be uneasy about the rules?", True), ("What risks does it carry?", True),
     ("What are the benefits of open models?", False), ("How does heavy usage help Alibaba?", False)],
)  # fmt: skip
def test_questions_about_drawbacks_are_told_apart(question, drawback) -> None:
    assert bool(answer_types.ASKS_DRAWBACK.search(question)) is drawback


@pytest.mark.parametrize(
    ("text", "turns"),
    [("However, it also creates uncertainty for businesses.", True), ("Firms remain unsure which uses are allowed.", True),
     ("This governance model has advantages and risks.", False), ("The flexibility enables faster deployment.", False)],
)  # fmt: skip
def test_a_drawback_is_a_sentence_that_turns_not_one_that_names_drawbacks(text, turns) -> None:
    assert bool(answer_types.DRAWBACK.search(text)) is turns


@pytest.mark.parametrize(
    ("question", "years"),
    [("How much revenue did the company report for 2025?", ["2025"]), ("What happened in FY2024?", ["2024"]),
     ("Did incidence fall from 2009 to 2014?", ["2009", "2014"]), ("Was it stable over 2009-2014?", ["2009", "2014"]),
     ("How many customers did it have in January 2025?", ["2025"]), ("What did the 2,000 visitors pay?", []),
     ("What changed in the 2020s?", []), ("Is version 3.2025 out?", []), ("How many customers?", [])],
)  # fmt: skip
def test_the_years_a_question_is_pinned_to_are_found(question, years) -> None:
    assert answer_types.ASKED_YEAR.findall(question) == years


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("How many customers did the platform have in January 2025?",
      "The platform had 290,000 customers as of January 2026.", False),
     ("How much revenue did the company report for 2025?", "Its 2025 revenue was 12 billion yuan.", True),
     ("How much revenue did the company report for 2025?", "In FY2025 revenue rose to 12 billion yuan.", True),
     ("What did the company do in 2023?", "Since August 2023, it has open-sourced 300 models.", True),
     ("What did the company do in 2023?", "It has open-sourced 300 models; 12023 downloads.", False)],
)  # fmt: skip
def test_a_question_pinned_to_a_year_is_answered_only_by_a_passage_mentioning_it(
    question, text, answers
) -> None:
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking.startswith("mention of 20")


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("What is the latest Qwen model version?", "The Model Studio platform lets companies customize Qwen models.", False),
     ("What is the latest Qwen model version?", "Alibaba released Qwen2.5 in September.", True),
     ("Which version of Python does it need?", "It runs on Python 3.10 or later.", True),
     ("Which API version is current?", "Calls go to API v2.", True),
     ("What version is the app at?", "The app is at version 5.1 since May 2026.", True),
     ("What version is the app at?", "The app was updated in May 2026.", False),
     ("What version is the app at?", "The app was updated on May 5 last year.", False),
     ("What is version control?", "Version control keeps the history of files.", True),
     ("What is the name of the newest Qwen model version as of 2026?", "Qwen models run on Model Studio.", False),
     ("What is the newest Qwen model version called?", "Qwen models run on Model Studio.", False),
     ("What does the new version add?", "The new release adds voice input.", True),
     ("Tell me the version number of the app.", "The app was updated in May 2026.", False)],
)  # fmt: skip
def test_a_question_for_a_version_is_answered_only_by_a_passage_naming_one(question, text, answers) -> None:
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "version"


@pytest.mark.parametrize(
    ("question", "versions"),
    [("When will Alibaba release Qwen 4?", ["Qwen 4"]), ("Is Qwen 2.5 better than Llama-3?", ["Qwen 2.5", "Llama-3"]),
     ("What does Article 5 of the AI Act ban?", ["Article 5"]), ("Top 10 uses of Qwen?", []),
     ("Which model came out in January 2026?", []), ("How many customers did Qwen have in 2025?", []),
     ("Does Qwen have 290,000 customers?", []), ("Did API calls at Qwen grow 15x?", []),
     ("How many models? Qwen 3 is one.", [])],
)  # fmt: skip
def test_a_name_with_a_version_number_is_found(question, versions) -> None:
    assert list(answer_types.asked_versions(question)) == versions


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("When will Alibaba release Qwen 4?", "Alibaba released Qwen models in January 2026.", False),
     ("When will Alibaba release Qwen 4?", "Alibaba plans to release Qwen4 in March.", True),
     ("When will Alibaba release Qwen 4?", "Alibaba released Qwen 4.5 in March.", False),
     ("When will Alibaba release Qwen 4?", "Qwen version 4 is due in March.", True),
     ("Is Llama 3 open source?", "Meta's Llama-3 models are open source.", True),
     ("Is Llama 3 open source?", "Meta released Llama 3.1 and Llama 2.", False)],
)  # fmt: skip
def test_a_question_about_one_version_is_answered_only_by_a_passage_naming_it(
    question, text, answers
) -> None:
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking.startswith("mention of ")


@pytest.mark.parametrize(
    ("question", "use"),
    [("What do mountain guides use the maps for?", True), ("What are schools doing with the maps?", True),
     ("How are hotels putting the app to work?", True), ("How is the park using drones?", True),
     ("In what ways are guides applying it?", True), ("etna app use cases", True),
     ("What tasks do rangers hand to the app?", True), ("What does the park charge?", False),
     ("How many visitors use the trail?", False), ("Which license does the app use?", False)],
)  # fmt: skip
def test_a_question_about_what_something_is_used_for(question, use) -> None:
    assert bool(answer_types.ASKS_USE.search(question)) is use


@pytest.mark.parametrize(
    ("text", "used_for"),
    [("Healthcare providers deploy the technology for diagnostic support.", True),
     ("Financial services apply it to fraud detection.", True),
     ("Carmakers integrate the app into vehicle voice assistants.", True),
     ("The park has 290,000 visitors deploying its maps.", False), ("The trail is used.", False),
     ("It generates data the park can use to improve its maps.", False), ("The maps are used for rescue.", True)],
)  # fmt: skip
def test_a_sentence_that_says_what_something_is_used_for(text, used_for) -> None:
    assert bool(answer_types.USED_FOR.search(text)) is used_for


@pytest.mark.parametrize(
    ("question", "benefit"),
    [("What does the park gain from free entry?", True), ("how does the town benefit from the visitors", True),
     ("What are the advantages of a guided climb?", True), ("what does etna tours get out of it", True),
     ("What's the upside of the new rules?", True), ("What does the park charge?", False),
     ("How many visitors climb?", False)],
)  # fmt: skip
def test_a_question_about_a_gain_asks_for_a_benefit(question, benefit) -> None:
    assert bool(answer_types.ASKS_BENEFIT.search(question)) is benefit


@pytest.mark.parametrize(
    ("text", "benefit"),
    [("This free approach generates multiple strategic benefits: more visitors, more sales.", True),
     ("The flexibility enables faster openings.", True), ("It creates tremendous strategic value.", True),
     ("It gives guides an advantage over rivals.", True), ("Since 2023 the park has opened 30 trails.", False)],
)  # fmt: skip
def test_a_sentence_that_names_a_benefit(text, benefit) -> None:
    assert bool(answer_types.BENEFIT.search(text)) is benefit


@pytest.mark.parametrize(
    ("question", "number", "multiple"),
    [("By what factor has usage increased?", False, True), ("By what multiple did requests grow?", False, True),
     ("How many times more calls does it get?", True, True), ("how many-fold did usage grow", True, True),
     ("By how much did calls grow?", True, True), ("By what means did it grow?", False, False),
     ("How much have calls gone up since last year?", True, True), ("How much did the park spend?", True, False),
     ("How much of the growth comes from China?", True, False), ("What factors explain its growth?", False, False)],
)  # fmt: skip
def test_by_what_factor_asks_for_a_multiple(question, number, multiple) -> None:
    asks_number, _ = answer_types.ANSWER_TYPES[0]
    assert bool(asks_number.search(question)) is number
    assert bool(answer_types.ASKS_MULTIPLE.search(question)) is multiple


@pytest.mark.parametrize(
    ("text", "multiple"),
    [("API calls have surged 15x year-over-year.", True), ("The 15-fold increase in API calls", True),
     ("Revenue doubled.", True), ("Usage rose 40% on the year.", True), ("a tenfold rise", True),
     ("three times more requests", True), ("over 290,000 customers as of January 2026", False),
     ("300+ models since August 2023", False), ("Qwen2.5 was released in 2024", False)],
)  # fmt: skip
def test_a_multiple_is_a_growth_not_any_number(text, multiple) -> None:
    assert bool(answer_types.MULTIPLE.search(text)) is multiple


@pytest.mark.parametrize(
    ("text", "magnitude"),
    [("The lag shrinks from months to weeks, and sometimes days.", True), ("It took 3 hours.", True),
     ("API calls surged 15x year-over-year.", True), ("Usage grew year-over-year.", False),
     ("DeepSeek released a reasoning model.", False)],
)  # fmt: skip
def test_how_long_is_answered_by_a_span_of_time_in_words_too(text, magnitude) -> None:
    assert answer_types.ASKS_MAGNITUDE.search("How long is the delay now?")
    assert bool(answer_types.MAGNITUDE.search(text)) is magnitude


@pytest.mark.parametrize(
    ("question", "names"),
    [("Which chips, such as Huawei Ascend, does it use?", ["Huawei", "Ascend"]),
     ("Could Qwen become the x86 of Chinese AI?", ["Qwen", "x86", "Chinese"]),
     ("Which industries do its customers come from? List them.", []),
     ("Does it need Silicon Valley-level resources?", ["Silicon", "Valley"]),
     ("What Is The Revenue Of Acme Corp?", []), ("Who won the 2022 FIFA World Cup?", ["FIFA", "World", "Cup"]),
     ("how does the eu regulate ai?", []), ("What did the E.U. and the U.S. agree?", []),
     ("How would it help a startup with no ML team?", []),
     # Who is asking is not what is asked about.
     ("I'm a PhD student in AI policy. How does it describe China's rules?", ["China"]),
     ("As an analyst at Goldman Sachs, how many customers does Qwen have?", ["Qwen"]),
     ("Does Alibaba use Huawei chips? I'm a student.", ["Alibaba", "Huawei"]),
     ("As for Huawei, does Alibaba use its chips?", ["Huawei", "Alibaba"])],
)  # fmt: skip
def test_the_names_a_question_relies_on_are_its_capitalized_words_past_a_sentence_start(
    question, names
) -> None:
    assert [form for _, form in answer_types.question_names(question, words(question))] == names


@pytest.mark.parametrize(
    ("question", "named_kind", "name"),
    [("Which company makes the chips?", True, True), ("Name some automakers that use Qwen.", True, True),
     ("Name a specific car company that has built it in.", True, True), ("Whose models is it compared to?", False, True),
     ("Name the advantages it gains.", False, False), ("What do robot makers use it for?", False, False),
     ("Which hospitals use it?", True, True), ("Which programming languages can it write?", True, True),
     ("What do schools use it for?", False, False), ("Which kinds of organizations does it help?", False, False),
     ("What type of company built it?", False, False), ("Which chip companies supply it?", True, True),
     ("Give me some automakers that use Qwen.", True, True), ("Tell me how banks use it.", False, False),
     ("Can you name some of the robotics companies that use it?", True, True),
     ("Could you please list the hospitals using it?", True, True), ("Can you tell me how banks use it?", False, False),
     ("What was the name of the first model it released?", True, True), ("Which specific NVIDIA chips are banned?", True, True),
     ("What is the name of this approach?", False, False),
     ("Show me what the article says schools use it for.", False, False),
     ("What the report mentions hospitals doing is unclear; which hospitals use it?", True, True)],
)  # fmt: skip
def test_questions_that_ask_for_a_named_thing_are_told_apart(question, named_kind, name) -> None:
    assert bool(answer_types.ASKS_NAMED_KIND.search(question)) is named_kind
    assert answer_types.asks_name(question, answer_types.asked_kind(question)) is name


@pytest.mark.parametrize(
    ("question", "kind"),
    [("Explain what Model Studio does for a company without an AI team.", None),
     ("Which company makes the chips?", "Which company"), ("Which Model is best?", "Which Model")],
)  # fmt: skip
def test_a_kind_word_that_begins_a_name_is_not_the_kind_asked_for(question, kind) -> None:
    m = answer_types.asked_kind(question)
    assert (m.group() if m else None) == kind


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("Which company makes the domestic chips?", "Domestic chips are made at home. Robotics firms use them.", False),
     ("Which company makes the domestic chips?", "Domestic chips are made at home by SMIC.", True),
     ("Name some automakers that use the model.", "Automotive manufacturers use it. Makers: BYD, Geely.", True),
     ("Name some automakers that use the model.", "Automotive manufacturers integrate it into cars.", False),
     ("Whose models is it compared to?", "It is compared to Western models.", True),
     ("Which hospitals use the model?", "Hospitals deploy it via its Model Studio.", False),
     ("Which hospitals use the model?", "Hospitals deploy it via the firm's Model Studio.", False),
     ("Which hospitals use the model?", "Its customers include Ruijin Hospital.", True),
     ("Which platform do hospitals deploy it through?", "Hospitals deploy it via its Model Studio.", True),
     ("Which company's model family is it likened to?", "It spreads much as Meta's Llama models did.", True),
     # A country or a where-from word names no model or company, but may name a rival.
     ("Which specific NVIDIA chip models are Chinese firms barred from buying?",
      "Its investment may exceed that of the United States and Japan.", False),
     ("Which specific NVIDIA chip models are Chinese firms barred from buying?",
      "Exports of the NVIDIA H20 are restricted.", True),
     ("Which company makes the chips?", "The chips are American.", False),
     ("Which specific NVIDIA chips are Chinese companies barred from buying?",
      "Restrictions limit access to advanced chips from NVIDIA and other US manufacturers.", False),
     ("Which rivals does China's buildout compete with?", "Its investment may exceed that of the United States.", True)],
)  # fmt: skip
def test_a_question_for_a_named_thing_is_answered_only_by_a_passage_that_names_one(
    question, text, answers
) -> None:
    """A word capitalized only because it opens a sentence ("Robotics") names nothing, and a name
    after a possessive ("its Model Studio") names a thing owned: an answer for a platform, not
    for a hospital."""
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "name"


@pytest.mark.parametrize(
    ("text", "answers"),
    [("The largest model has 72 billion parameters.", True), ("It has 290,000 customers and 300 models.", False)],
)  # fmt: skip
def test_a_question_for_a_noun_count_needs_a_number_of_that_noun(text, answers) -> None:
    assert (_lacks("In terms of parameter count, how big is the largest model?", text) is None) is answers


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("qwen customers number", "Qwen has over 290,000 customers across five industries.", True),
     ("qwen daily api call volume", "API calls have surged 15x year-over-year.", False),
     ("qwen daily api call volume", "Qwen handles 2 billion API calls a day.", True)],
)  # fmt: skip
def test_a_keyword_query_ending_on_number_or_volume_needs_a_count(question, text, answers) -> None:
    """A multiple ("15x") is a change, not a volume."""
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "number of calls"


@pytest.mark.parametrize(
    ("question", "asks"),
    [("What benchmark scores did DeepSeek R1 achieve?", "scores"), ("deepseek r1 benchmark scores vs gpt", "scores"),
     ("What were its results on the MMLU benchmark?", "results"), ("What score did the team get?", None),
     ("How did DeepSeek R1 do against Western models?", None),
     ("does qwen beat gpt-4 on benchmarks", "benchmarks"), ("Did DeepSeek R1 beat Qwen on reasoning tests?", "tests"),
     ("How do Chinese firms perform in AI?", None)],
)  # fmt: skip
def test_a_benchmark_question_asks_for_a_score(question, asks) -> None:
    assert answer_types.score_word(question) == asks


@pytest.mark.parametrize(
    ("text", "answers"),
    [("R1 scored 79.8% on the AIME benchmark.", True), ("Its MMLU score is 90.8.", True),
     ("R1, released in January 2026, demonstrated capabilities approaching Western models.", False),
     ("It has 290,000 customers and 300 models.", False)],
)  # fmt: skip
def test_a_benchmark_question_needs_a_number_beside_a_score(text, answers) -> None:
    lacking = _lacks("What benchmark scores did DeepSeek R1 achieve?", text)
    assert (lacking is None) is answers
    assert answers or lacking == "score"


@pytest.mark.parametrize(
    ("question", "abbreviation"),
    [("What does IAPP stand for?", "IAPP"), ("What is WTO short for?", "WTO"), ("IAPP stands for what?", "IAPP"),
     ("What does the company stand for?", None), ("What does AI mean for jobs?", None)],
)  # fmt: skip
def test_a_question_about_an_abbreviation_asks_for_it_spelled_out(question, abbreviation) -> None:
    found = [a or b for a, b in answer_types.ASKS_EXPANSION.findall(question)]
    assert found == ([abbreviation] if abbreviation else [])


@pytest.mark.parametrize(
    ("text", "answers"),
    [("The International Association of Privacy Professionals (IAPP) published it.", True),
     ("Source: Based on reporting from Asia Times, Nikkei Asia, and IAPP research.", False),
     ("It is in a previous paper.", False)],
)  # fmt: skip
def test_an_abbreviation_question_needs_a_passage_that_spells_it_out(text, answers) -> None:
    lacking = _lacks("What does IAPP stand for?", text)
    assert (lacking is None) is answers
    assert answers or lacking == "spelling out of IAPP"


@pytest.mark.parametrize(
    ("question", "part"),
    [("How many of Qwen's customers are based outside mainland China?", "outside mainland China"),
     ("How many Qwen customers are in the finance sector?", "in the finance sector"),
     ("How many visitors come from Germany?", None), ("How many customers does Qwen have?", None),
     ("How many sectors are Qwen's customers spread across?", None),
     ("How many of the 290,000 Qwen customers are outside China?", "outside China"),
     ("How many of its users are based outside of China?", "outside of China")],
)  # fmt: skip
def test_a_count_of_a_part_is_told_from_a_count_of_the_whole(question, part) -> None:
    qwords = words(question)
    found = answer_types.counted_part(question, qwords, get_embedder().encode(qwords), "x")
    assert (found[0] if found else None) == part


@pytest.mark.parametrize(
    ("text", "answers"),
    [("Over 290,000 customers across robotics, healthcare and finance use it.", False),
     ("About 40,000 customers outside China use it.", True)],
)  # fmt: skip
def test_a_count_asked_after_of_the_whole_is_a_count_of_a_part(text, answers) -> None:
    # "Of the 290,000 customers, how many ...": the whole comes first.
    lacking = _lacks("Of the 290,000 customers, how many are based outside of China?", text)
    assert (lacking is None) is answers
    assert answers or lacking == "number of customers outside of China"


@pytest.mark.parametrize(
    ("text", "answers"),
    [("Over 290,000 customers across robotics, healthcare and finance use it.", False),
     ("About 40,000 customers outside China use it.", True), ("It has 12,000 customers and 300 models.", False)],
)  # fmt: skip
def test_a_count_of_a_part_needs_the_part_beside_the_number(text, answers) -> None:
    lacking = _lacks("How many of Qwen's customers are located outside China?", text)
    assert (lacking is None) is answers
    assert answers or lacking == "number of customers outside China"


def _count_of(question: str, text: str) -> bool:
    """Whether the question's CountOf rank type matches text (its words the vocabulary)."""
    vocab = sorted(set(words(text)) | set(words(question)))
    lexicon = Lexicon(vocab, get_embedder().encode(vocab), np.ones(len(vocab)), 10)
    qwords = words(question)
    types = answer_types.of_question(question, qwords, get_embedder().encode(qwords), lexicon)
    (count_of,) = [t for t in types.rank if isinstance(t, answer_types.CountOf)]
    return count_of.search(text)


@pytest.mark.parametrize(
    ("question", "text", "ranks"),
    [("How many customers are using Qwen models through Model Studio?",
      "The platform has over 290,000 customers deploying its models via Model Studio.", True),
     ("How many customers are using Qwen models through Model Studio?",
      "The Model Studio platform lets companies customize Qwen models.", False),
     ("How many customers does Qwen have?", "Qwen spans 12 provinces and 300 models.", False),
     ("How many derivative models have developers built on Qwen?", "Alibaba has open-sourced over 300 models.", False),
     ("How many derivative models have developers built on Qwen?", "Developers built 90,000 derivative models.", True),
     ("How many Qwen customers are there?", "It has over 290,000 customers.", True),
     ("How many of Qwen's customers are located outside China?", "It has 290,000 customers across robotics.", False)],
)  # fmt: skip
def test_a_count_of_the_counted_thing_ranks_as_an_answer_type_of_its_own(question, text, ranks) -> None:
    assert _count_of(question, text) is ranks


def test_what_narrows_a_count_is_not_a_name_a_determiner_or_a_number() -> None:
    for question, narrowing in [
        ("How many of its open-source derivative models are used?", ["open", "source", "derivative"]),
        ("How many Qwen customers are there?", []),
        ("how many of the enterprise customers pay?", ["enterprise"]),
    ]:
        qwords = words(question)
        found = answer_types.counted_modifiers(question, answer_types.counted_word(question, qwords), qwords,
                                               get_embedder().encode(qwords))  # fmt: skip
        assert [w for w, _ in found] == narrowing, question


@pytest.mark.parametrize(
    ("question", "origin"),
    [("Which Chinese chipmaker supplies the chips?", "chinese"), ("Which US states regulate AI?", "us"),
     ("Which American company's models is it compared to?", "us"), ("Which Western model family?", "western"),
     ("Which company makes the chips?", None), ("Who uses it in the US?", None),
     ("Which government agency in China enforces AI rules?", "chinese"), ("Which hospitals in Japan use it?", "japanese"),
     ("Which companies use Qwen in hospitals?", None)],
)  # fmt: skip
def test_a_question_may_say_where_the_named_thing_is_from(question, origin) -> None:
    assert answer_types.asked_origin(question, answer_types.asked_kind(question)) == origin


@pytest.mark.parametrize(
    ("question", "text", "answers"),
    [("Which Chinese company makes the chips?", "The chips come from NVIDIA and other US manufacturers.", False),
     ("Which Chinese company makes the chips?", "Spending may rival that of the United States and Japan.", False),
     ("Which Chinese company makes the chips?", "The chips come from SMIC, a Chinese foundry.", True),
     ("Which Chinese government agency regulates AI?", "Unlike the European Union's AI Act, rules adapt.", False),
     ("Which US chipmaker is restricted?", "Access to chips from NVIDIA and other US manufacturers is limited.", True),
     ("Which Western model family is it likened to?", "Like Meta's Llama models for Western AI applications.", True),
     ("Which American company's models is it likened to?", "Like Meta's Llama models for Western AI uses.", True)],
)  # fmt: skip
def test_a_name_from_another_origin_does_not_answer_where_the_question_says_one(
    question, text, answers
) -> None:
    lacking = _lacks(question, text)
    assert (lacking is None) is answers
    assert answers or lacking == "name"


@pytest.mark.parametrize(
    ("question", "reason"),
    [("Why is building domestic chips so important for China?", True), ("explain why qwen works everywhere", True),
     ("How come Alibaba gives its models away?", True), ("What are the reasons for the API growth?", True),
     ("I'm curious why does China care about chips", True), ("Why?", True),
     ("How does Alibaba make money from Qwen?", False), ("What is the AI kingmaker?", False)],
)  # fmt: skip
def test_a_why_question_picks_a_sentence_that_gives_a_reason(question, reason) -> None:
    assert bool(answer_types.ASKS_REASON.search(question)) is reason
    assert answer_types.asks_reason_first(question) is reason


@pytest.mark.parametrize(
    "question",
    ["Which American company is the approach likened to, and why is the comparison made?",
     "When did the park open, and why did it close?", "How many trails are there, and why are there so many?"],
)  # fmt: skip
def test_a_why_after_another_question_picks_nothing(question) -> None:
    """The first question's answer is the sentence to highlight."""
    assert answer_types.ASKS_REASON.search(question)
    assert not answer_types.asks_reason_first(question)


@pytest.mark.parametrize(
    ("text", "gives"),
    [("This strategy becomes particularly critical given ongoing restrictions.", True),
     ("This rapid catch-up reflects massive investments in infrastructure.", True),
     ("China aims to ensure that tensions don't constrain it.", True), ("It grew because demand rose.", True),
     ("Supporting China's AI ambitions is continued massive investment in AI infrastructure.", False)],
)  # fmt: skip
def test_a_reason_is_marked_by_its_words(text, gives) -> None:
    assert bool(answer_types.GivesReason().search(text)) is gives
