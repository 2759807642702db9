"""Chapter 10's tasks in dlbook.data: topic_paragraphs (balanced classes, one window
each, labels that match the topics, disjoint splits) and instruction_pairs (questions
by hand, answers that are first sentences, held-out topics the base model never read);
both deterministic, in the corpus's characters, with clear errors."""

from __future__ import annotations

import collections
import re
from pydoc_data.topics import topics

import pytest

from dlbook import data
from dlbook.data import (
    PARAGRAPH_CLASSES,
    PARAGRAPH_LENGTH,
    PARAGRAPH_TOPICS,
    instruction_pairs,
    python_docs,
    topic_paragraphs,
)

SPLITS = ("train", "held-out")


def collapsed(text: str) -> str:
    return " ".join(text.split())


def test_paragraphs_are_balanced_windows_of_the_right_types():
    for split, per_class in [("train", 60), ("held-out", 30)]:
        pairs = topic_paragraphs(split)
        assert all(type(text) is str and type(label) is int for text, label in pairs)
        assert all(len(text) == PARAGRAPH_LENGTH == 128 for text, _ in pairs)
        counts = collections.Counter(label for _, label in pairs)
        assert counts == {label: per_class for label in range(4)}
        assert len(PARAGRAPH_CLASSES) == 4


def test_paragraph_splits_are_disjoint_and_texts_unique():
    train, held_out = (topic_paragraphs(split) for split in SPLITS)
    train_texts = [text for text, _ in train]
    held_out_texts = [text for text, _ in held_out]
    assert len(set(train_texts)) == len(train_texts)
    assert len(set(held_out_texts)) == len(held_out_texts)
    assert not set(train_texts) & set(held_out_texts)


def test_class_table_by_hand():
    # spot checks from the documentation's files, written here, not read from data
    by_hand = [
        {"for", "while", "if", "try", "with", "import", "assignment", "return"},
        {"calls", "comparisons", "binary", "lambda", "slicings", "booleans"},
        {"specialnames", "customization", "types", "objects"},
        {"string-methods", "typesseq", "typesmapping", "truth", "specialattrs"},
    ]
    table = [set(names) for names in PARAGRAPH_TOPICS]
    for label, names in enumerate(by_hand):
        assert names <= table[label], (PARAGRAPH_CLASSES[label], names - table[label])
    everywhere = [name for names in table for name in names]
    assert len(everywhere) == len(set(everywhere))  # no topic in two classes
    assert set(everywhere) <= set(topics)


def test_each_paragraph_comes_from_topics_of_its_class_only():
    texts = {name: collapsed(text) for name, text in topics.items()}
    table = [set(names) for names in PARAGRAPH_TOPICS]
    for split in SPLITS:
        for text, label in topic_paragraphs(split):
            found_in = {
                name for names in table for name in names if text in texts[name]
            }
            assert found_in and found_in <= table[label], (text, label, found_in)


def test_paragraphs_look_like_prose():
    for text, _ in topic_paragraphs("train") + topic_paragraphs("held-out"):
        assert "::=" not in text and ">>>" not in text
        assert not text.startswith(("New in version", "Changed in version"))
        assert text[0].isupper() or text[0] in '"“*', text
        assert "  " not in text and "\n" not in text  # whitespace collapsed


def test_instruction_pairs_by_hand():
    train = dict(instruction_pairs("train"))
    held_out = dict(instruction_pairs("held-out"))
    assert train['What does the "for" statement do?'] == (
        'The "for" statement is used to iterate over the elements of a sequence '
        "(such as a string, tuple or list) or other iterable object."
    )
    assert train["What does the section “Calls” explain?"] == (
        "A call calls a callable object (e.g., a *function*) with a possibly empty "
        "series of *arguments*."
    )
    assert held_out['What does the "yield" statement do?'] == (
        'A "yield" statement is semantically equivalent to a yield expression.'
    )
    # "while" is a validation topic, but "compound" (a training topic) repeats it
    assert 'What does the "while" statement do?' in train
    assert 'What does the "while" statement do?' not in held_out


def test_answers_are_first_sentences_of_their_topics():
    texts = [collapsed(text) for text in topics.values()]
    for split in SPLITS:
        for question, answer in instruction_pairs(split):
            sentence = answer[:-1]  # a final ":" of the text became "."
            assert any(answer in t or sentence + ":" in t for t in texts), answer
            assert len(question) + len(answer) <= 224
            statement = r'What does the "\w+" statement do\?'
            section = r"What does the section “.+” explain\?"
            assert re.fullmatch(f"{statement}|{section}", question), question


def test_instruction_split_is_by_topic_and_held_out_is_unseen():
    train, held_out = (instruction_pairs(split) for split in SPLITS)
    questions = [q for q, _ in train + held_out]
    assert len(questions) == len(set(questions))  # "if" and "else" kept once
    assert len(train) > 50 and len(held_out) >= 5
    validation, seen = python_docs("validation"), collapsed(python_docs("train"))
    for _, answer in held_out:
        assert answer[:-1] in collapsed(validation)
        assert answer[:-1] not in seen  # the base model never read it


@pytest.mark.parametrize("function", [topic_paragraphs, instruction_pairs])
def test_characters_are_the_corpus_ones(function):
    characters = set(data.corpus_characters())
    for split in SPLITS:
        for pair in function(split):
            for text in pair[:2]:
                if isinstance(text, str):
                    assert set(text) <= characters, set(text) - characters


@pytest.mark.parametrize("function", [topic_paragraphs, instruction_pairs])
def test_deterministic(function):
    assert function("train") == function("train")
    assert function("held-out") == function(split="held-out")
    assert function() == function("train")


@pytest.mark.parametrize("function", [topic_paragraphs, instruction_pairs])
def test_bad_split(function):
    with pytest.raises(ValueError, match="split must be 'train' or 'held-out', got"):
        function("validation")
    with pytest.raises(ValueError, match="split must be 'train' or 'held-out', got 1"):
        function(1)
