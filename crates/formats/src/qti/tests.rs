use super::*;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Helpers

fn options() -> QtiOptions {
    QtiOptions {
        default_domain: "general".into(),
    }
}

fn parse(xml: &str) -> Item {
    parse_item(xml.as_bytes(), &options()).unwrap_or_else(|e| {
        let list: Vec<_> = e.iter().map(ToString::to_string).collect();
        panic!("the item should parse:\n{}", list.join("\n"))
    })
}

/// The rejection messages as displayed: `line N: ...`, or the bare message for the whole file.
fn refused(bytes: &[u8]) -> Vec<String> {
    match parse_item(bytes, &options()) {
        Ok(item) => panic!("the file should be refused, got {item:#?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn refused_xml(xml: &str) -> Vec<String> {
    refused(xml.as_bytes())
}

/// A QTI 2.1 item: line 1 is the XML declaration, line 2 the root element, `inner` starts on
/// line 3.
fn qti21(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<assessmentItem \
         xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\" identifier=\"q1\" title=\"Q\">\n\
         {inner}</assessmentItem>\n"
    )
}

/// A QTI 3.0 item, laid out like [`qti21`].
fn qti30(inner: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<qti-assessment-item \
         xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\" identifier=\"q1\" title=\"Q\">\n\
         {inner}</qti-assessment-item>\n"
    )
}

/// Lines 3-5: a single-choice declaration keyed `key`.
fn single(key: &str) -> String {
    format!(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">\n\
         <correctResponse><value>{key}</value></correctResponse>\n\
         </responseDeclaration>\n"
    )
}

/// Lines 3-5 a declaration keyed B, lines 6-12 a choice among A, B, C asking `Which?`.
fn choice_item() -> String {
    qti21(&format!(
        "{}<itemBody>\n\
         <choiceInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\">\n\
         <prompt>Which?</prompt>\n\
         <simpleChoice identifier=\"A\">Alpha</simpleChoice>\n\
         <simpleChoice identifier=\"B\">Beta</simpleChoice>\n\
         <simpleChoice identifier=\"C\">Gamma</simpleChoice>\n\
         </choiceInteraction>\n</itemBody>\n",
        single("B")
    ))
}

fn choices(list: &[(&str, &str)]) -> Vec<Choice> {
    list.iter()
        .map(|(id, text)| Choice {
            id: (*id).into(),
            text: (*text).into(),
        })
        .collect()
}

fn fixtures() -> Option<&'static Path> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/fixtures not found");
        None
    }
}

fn fixture(name: &str) -> Option<Vec<u8>> {
    let path = fixtures()?.join(name);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn fixture_item(name: &str) -> Option<Item> {
    let bytes = fixture(name)?;
    Some(parse_item(&bytes, &options()).unwrap_or_else(|e| {
        let list: Vec<_> = e.iter().map(ToString::to_string).collect();
        panic!("{name} should parse:\n{}", list.join("\n"))
    }))
}

fn fixture_refused(name: &str) -> Option<Vec<String>> {
    fixture(name).map(|bytes| refused(&bytes))
}

const SUPPORTED_LIST: &str =
    "supported: choice, order, match, associate, text entry, hottext, inline choice";

// ---------------------------------------------------------------------------------------------
// Reading items written here

#[test]
fn a_choice_item_gives_its_options_key_stem_and_the_import_defaults() {
    let item = parse(&choice_item());
    assert_eq!(
        item,
        Item {
            id: "q1".into(),
            domain: "general".into(),
            status: ItemStatus::Draft,
            version: 1,
            stem: "Which?".into(),
            artifact: None,
            body: ItemBody::SingleChoice {
                choices: choices(&[("A", "Alpha"), ("B", "Beta"), ("C", "Gamma")]),
                correct: "B".into(),
            },
            rationale: String::new(),
        }
    );
}

#[test]
fn the_stem_is_plain_text_with_one_line_per_block_and_the_first_pre_is_the_artifact() {
    let xml = qti21(&format!(
        "{}<itemBody>\n\
         <rubricBlock view=\"scorer\"><p>Scorers only.</p></rubricBlock>\n\
         <rubricBlock view=\"candidate\"><p>Read   the <em>log</em> below.</p></rubricBlock>\n\
         <pre class=\"lang-x language-python\">\nimport os\n  print(os.getcwd())\n</pre>\n\
         <ul><li>one</li><li>two<br/>lines</li></ul>\n\
         <ol><li>first</li><li>second</li></ol>\n\
         <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2 &amp; 3</td></tr></table>\n\
         <pre>kept\n  as is</pre>\n\
         <p><img src=\"x.png\" alt=\" A  chart \"/> and <img src=\"y.png\"/></p>\n\
         <feedbackBlock outcomeIdentifier=\"FEEDBACK\" identifier=\"x\" showHide=\"show\">Why.</feedbackBlock>\n\
         <choiceInteraction responseIdentifier=\"RESPONSE\">\n\
         <prompt>Which <b>line</b>?<feedbackInline outcomeIdentifier=\"F\" identifier=\"y\" showHide=\"show\">no</feedbackInline></prompt>\n\
         <simpleChoice identifier=\"A\"><p>First</p><p>option</p></simpleChoice>\n\
         <simpleChoice identifier=\"B\">Second <feedbackInline outcomeIdentifier=\"F\" identifier=\"B\" showHide=\"show\">Right!</feedbackInline></simpleChoice>\n\
         </choiceInteraction>\n<p>After.</p>\n</itemBody>\n",
        single("B")
    ));
    let item = parse(&xml);
    assert_eq!(
        item.stem,
        "Read the log below.\n- one\n- two\nlines\n1. first\n2. second\na | b\n1 | 2 & 3\nkept\n  \
         as is\n[image: A chart] and [image]\nWhich line?\nAfter."
    );
    assert_eq!(
        item.artifact,
        Some(Artifact {
            kind: "code".into(),
            language: "x".into(),
            // HTML's first newline after <pre> is dropped; the rest is exact.
            content: "import os\n  print(os.getcwd())\n".into(),
        })
    );
    assert_eq!(
        item.body,
        ItemBody::SingleChoice {
            choices: choices(&[("A", "First\noption"), ("B", "Second")]),
            correct: "B".into(),
        }
    );
    assert_eq!(item.rationale, "Why.");
}

#[test]
fn an_inline_interaction_leaves_a_blank_unless_alone_in_its_paragraph() {
    let decl = "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"string\">\n\
                <correctResponse><value>least privilege</value></correctResponse>\n\
                </responseDeclaration>\n";
    let inline = parse(&qti21(&format!(
        "{decl}<itemBody><p>Grant the <textEntryInteraction responseIdentifier=\"RESPONSE\"/> only.</p></itemBody>\n"
    )));
    assert_eq!(inline.stem, "Grant the _____ only.");
    let alone = parse(&qti21(&format!(
        "{decl}<itemBody><p>Which principle?</p><p> <textEntryInteraction responseIdentifier=\"RESPONSE\"/> </p></itemBody>\n"
    )));
    assert_eq!(alone.stem, "Which principle?");
    assert_eq!(
        alone.body,
        ItemBody::ShortText {
            accepted: vec![TextAnswer::Exact("least privilege".into())]
        }
    );
}

#[test]
fn text_entry_accepts_the_correct_response_positive_mappings_and_literal_patterns() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"string\">\n\
         <correctResponse><value>TLS 1.3</value></correctResponse>\n\
         <mapping defaultValue=\"0\"><mapEntry mapKey=\"tls  1.3\" mappedValue=\"1\"/>\
         <mapEntry mapKey=\"TLSv1.3\" mappedValue=\"0.5\"/><mapEntry mapKey=\"SSL\" mappedValue=\"-1\"/></mapping>\n\
         </responseDeclaration>\n\
         <itemBody><p>Which protocol version? <textEntryInteraction responseIdentifier=\"RESPONSE\"/></p></itemBody>\n\
         <responseProcessing><responseCondition><responseIf><or>\
         <patternMatch pattern=\"TLS .*\\.3\"><variable identifier=\"RESPONSE\"/></patternMatch>\
         <patternMatch pattern=\"other\"><variable identifier=\"OTHER\"/></patternMatch>\
         </or></responseIf></responseCondition></responseProcessing>\n",
    );
    assert_eq!(
        parse(&xml).body,
        ItemBody::ShortText {
            accepted: vec![
                TextAnswer::Exact("TLS 1.3".into()),
                TextAnswer::Exact("TLSv1.3".into()),
                TextAnswer::Pattern("TLS *.3".into()),
            ]
        }
    );
}

fn numeric(processing: &str, base_type: &str, value: &str) -> Result<Item, Vec<String>> {
    let xml = qti21(&format!(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"{base_type}\">\n\
         <correctResponse><value>{value}</value></correctResponse>\n\
         </responseDeclaration>\n\
         <itemBody><p>How many? <textEntryInteraction responseIdentifier=\"RESPONSE\"/></p></itemBody>\n\
         <responseProcessing><responseCondition><responseIf>\n\
         {processing}\n\
         </responseIf></responseCondition></responseProcessing>\n"
    ));
    parse_item(xml.as_bytes(), &options())
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

fn tolerance_of(processing: &str, value: &str) -> (f64, f64) {
    match numeric(processing, "float", value).expect("parses").body {
        ItemBody::Numeric { answer, tolerance } => (answer, tolerance),
        other => panic!("{other:?}"),
    }
}

#[test]
fn numeric_tolerance_comes_from_equal_or_equal_rounded_on_the_response() {
    let cmp = |tag: &str| {
        format!(
            "<{tag}><variable identifier=\"RESPONSE\"/><correct identifier=\"RESPONSE\"/></{}>",
            tag.split(' ').next().unwrap()
        )
    };
    assert_eq!(tolerance_of("", "99.9"), (99.9, 0.0));
    assert_eq!(tolerance_of(&cmp("equal"), "2"), (2.0, 0.0));
    assert_eq!(
        tolerance_of(
            &cmp("equal toleranceMode=\"absolute\" tolerance=\"0.05 0.05\""),
            "99.9"
        ),
        (99.9, 0.05)
    );
    assert_eq!(
        tolerance_of(
            &cmp("equal toleranceMode=\"absolute\" tolerance=\"0.5\""),
            "1e3"
        ),
        (1000.0, 0.5)
    );
    assert_eq!(
        tolerance_of(
            &cmp("equal toleranceMode=\"relative\" tolerance=\"10\""),
            "-200"
        ),
        (-200.0, 20.0)
    );
    assert_eq!(
        tolerance_of(
            &cmp("equalRounded roundingMode=\"decimalPlaces\" figures=\"2\""),
            "1.25"
        ),
        (1.25, 0.005)
    );
    assert_eq!(
        tolerance_of(
            &cmp("equalRounded roundingMode=\"significantFigures\" figures=\"2\""),
            "1500"
        ),
        (1500.0, 50.0)
    );
    // Another variable's comparison is not the response's tolerance.
    assert_eq!(
        tolerance_of(
            "<equal toleranceMode=\"absolute\" tolerance=\"9\"><variable identifier=\"SCORE\"/><baseValue baseType=\"float\">1</baseValue></equal>",
            "7"
        ),
        (7.0, 0.0)
    );
    let integer = numeric("", "integer", "+42").expect("parses");
    assert_eq!(
        integer.body,
        ItemBody::Numeric {
            answer: 42.0,
            tolerance: 0.0
        }
    );
}

#[test]
fn numeric_keys_and_tolerances_accredit_cannot_hold_are_refused() {
    assert_eq!(
        numeric("", "integer", "4.5").unwrap_err(),
        [
            "line 4: <value>4.5</value> of RESPONSE is not a whole number; expected a whole number such as 42"
        ]
    );
    assert_eq!(
        numeric("", "float", "INF").unwrap_err(),
        ["line 4: <value>INF</value> of RESPONSE is not a number; expected a number such as 3.5"]
    );
    assert_eq!(
        numeric(
            "<equal toleranceMode=\"absolute\" tolerance=\"0.1 0.2\"><variable identifier=\"RESPONSE\"/><correct identifier=\"RESPONSE\"/></equal>",
            "float",
            "1"
        )
        .unwrap_err(),
        [
            "line 8: <equal> has the uneven tolerance=\"0.1 0.2\"; Accredit accepts the same distance on either side of the answer"
        ]
    );
    assert_eq!(
        numeric(
            "<equal toleranceMode=\"absolute\" tolerance=\"{T}\"><variable identifier=\"RESPONSE\"/><correct identifier=\"RESPONSE\"/></equal>",
            "float",
            "1"
        )
        .unwrap_err(),
        ["line 8: <equal> has tolerance=\"{T}\"; expected one or two numbers of 0 or more"]
    );
}

#[test]
fn a_regular_expression_beyond_literal_text_and_wildcards_is_refused() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"string\">\n\
         <correctResponse><value>ab</value></correctResponse>\n\
         </responseDeclaration>\n\
         <itemBody><p>Word? <textEntryInteraction responseIdentifier=\"RESPONSE\"/></p></itemBody>\n\
         <responseProcessing>\n\
         <patternMatch pattern=\"[a-z]+\"><variable identifier=\"RESPONSE\"/></patternMatch>\n\
         </responseProcessing>\n",
    );
    assert_eq!(
        refused_xml(&xml),
        [
            "line 8: <patternMatch pattern=\"[a-z]+\"> accepts answers by a regular expression; Accredit patterns are literal text with * for any text (written .* in the expression)"
        ]
    );
    assert_eq!(
        wildcard_from_regex(r"a\.b.*c\(d\)"),
        Some("a.b*c(d)".into())
    );
    assert_eq!(wildcard_from_regex(r"a\*"), None);
    assert_eq!(wildcard_from_regex(r"\d"), None);
    assert_eq!(wildcard_from_regex("a.b"), None);
    assert_eq!(regex_from_wildcard("a.b*c(d)"), r"a\.b.*c\(d\)");
}

#[test]
fn multiple_response_without_correct_response_takes_the_positively_mapped_options() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"identifier\">\n\
         <mapping defaultValue=\"0\"><mapEntry mapKey=\"A\" mappedValue=\"1\"/>\
         <mapEntry mapKey=\"B\" mappedValue=\"-1\"/><mapEntry mapKey=\"C\" mappedValue=\"0.5\"/></mapping>\n\
         </responseDeclaration>\n<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\">\n\
         <prompt>Which are safe?</prompt>\
         <simpleChoice identifier=\"A\">a</simpleChoice><simpleChoice identifier=\"B\">b</simpleChoice>\
         <simpleChoice identifier=\"C\">c</simpleChoice>\n</choiceInteraction></itemBody>\n",
    );
    assert_eq!(
        parse(&xml).body,
        ItemBody::MultipleResponse {
            choices: choices(&[("A", "a"), ("B", "b"), ("C", "c")]),
            correct: vec!["A".into(), "C".into()],
        }
    );
}

#[test]
fn a_single_choice_whose_mapping_credits_two_options_has_no_key_to_guess() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">\n\
         <mapping defaultValue=\"0\"><mapEntry mapKey=\"A\" mappedValue=\"1\"/><mapEntry mapKey=\"B\" mappedValue=\"0.5\"/></mapping>\n\
         </responseDeclaration>\n<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\">\n\
         <prompt>Which?</prompt><simpleChoice identifier=\"A\">a</simpleChoice><simpleChoice identifier=\"B\">b</simpleChoice>\n\
         </choiceInteraction></itemBody>\n",
    );
    assert_eq!(
        refused_xml(&xml),
        [
            "line 3: the <mapping> of RESPONSE gives credit to 2 options (A, B) and no <correctResponse> says which one is the key of this single choice"
        ]
    );
}

#[test]
fn true_false_needs_the_class_the_exporter_writes_otherwise_it_stays_a_single_choice() {
    let body = |class: &str| {
        qti21(&format!(
            "{}<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\"{class}>\n\
             <prompt>TLS 1.0 is deprecated.</prompt>\
             <simpleChoice identifier=\"true\">True</simpleChoice><simpleChoice identifier=\"false\">False</simpleChoice>\n\
             </choiceInteraction></itemBody>\n",
            single("true")
        ))
    };
    assert_eq!(
        parse(&body(" class=\"wide true-false\"")).body,
        ItemBody::TrueFalse { correct: true }
    );
    assert_eq!(
        parse(&body("")).body,
        ItemBody::SingleChoice {
            choices: choices(&[("true", "True"), ("false", "False")]),
            correct: "true".into(),
        }
    );
}

#[test]
fn hottexts_that_are_the_lines_of_a_pre_are_a_faulty_lines_item_over_it() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"single\" baseType=\"identifier\">\n\
         <correctResponse><value>third</value></correctResponse>\n</responseDeclaration>\n\
         <itemBody><p>Which line leaks the key?</p>\n\
         <hottextInteraction responseIdentifier=\"RESPONSE\" maxChoices=\"1\">\n\
         <pre class=\"language-yaml artifact-config\">\n\
         <hottext identifier=\"first\">db:</hottext>\n\
         \x20 <hottext identifier=\"second\">host: x</hottext>\n\
         \n\
         <hottext identifier=\"third\">  key: s3cr3t</hottext></pre>\n\
         </hottextInteraction></itemBody>\n",
    );
    let item = parse(&xml);
    assert_eq!(item.stem, "Which line leaks the key?");
    assert_eq!(item.body, ItemBody::FaultyLines { lines: vec![4] });
    assert_eq!(
        item.artifact,
        Some(Artifact {
            kind: "config".into(),
            language: "yaml".into(),
            content: "db:\n  host: x\n\n  key: s3cr3t".into(),
        })
    );
}

#[test]
fn hottexts_in_a_pre_with_unselectable_lines_stay_a_choice_with_the_pre_as_artifact() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"identifier\">\n\
         <correctResponse><value>b</value></correctResponse>\n</responseDeclaration>\n\
         <itemBody><hottextInteraction responseIdentifier=\"RESPONSE\">\n\
         <prompt>Which call is unsafe?</prompt>\n\
         <pre>x = <hottext identifier=\"a\">load(f)</hottext>\ny = <hottext identifier=\"b\">eval(s)</hottext></pre>\n\
         </hottextInteraction></itemBody>\n",
    );
    let item = parse(&xml);
    assert_eq!(item.stem, "Which call is unsafe?");
    assert_eq!(
        item.body,
        ItemBody::MultipleResponse {
            choices: choices(&[("a", "load(f)"), ("b", "eval(s)")]),
            correct: vec!["b".into()],
        }
    );
    assert_eq!(
        item.artifact.map(|a| (a.kind, a.language, a.content)),
        Some((
            "code".into(),
            "text".into(),
            "x = load(f)\ny = eval(s)".into()
        ))
    );
}

#[test]
fn associate_pairs_become_prompts_listed_first_and_the_rest_targets() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"pair\">\n\
         <correctResponse><value>D A</value><value>B C</value></correctResponse>\n</responseDeclaration>\n\
         <itemBody><associateInteraction responseIdentifier=\"RESPONSE\">\n<prompt>Pair them.</prompt>\
         <simpleAssociableChoice identifier=\"A\">a</simpleAssociableChoice>\
         <simpleAssociableChoice identifier=\"B\">b</simpleAssociableChoice>\
         <simpleAssociableChoice identifier=\"C\">c</simpleAssociableChoice>\
         <simpleAssociableChoice identifier=\"D\">d</simpleAssociableChoice>\
         <simpleAssociableChoice identifier=\"E\">e</simpleAssociableChoice>\n\
         </associateInteraction></itemBody>\n",
    );
    assert_eq!(
        parse(&xml).body,
        ItemBody::Matching {
            prompts: choices(&[("A", "a"), ("B", "b")]),
            targets: choices(&[("C", "c"), ("D", "d"), ("E", "e")]),
            pairs: vec![("A".into(), "D".into()), ("B".into(), "C".into())],
        }
    );
}

#[test]
fn item_identifiers_are_kept_unprefixed_or_slugified() {
    let with_id =
        |id: &str| choice_item().replace("identifier=\"q1\"", &format!("identifier=\"{id}\""));
    assert_eq!(parse(&with_id("item_7.b-2")).id, "item_7.b-2");
    assert_eq!(
        parse(&with_id("_9114e11e-4b0c")).id,
        "9114e11e-4b0c",
        "the _ that makes a QTI identifier of a digit-led id is dropped"
    );
    assert_eq!(parse(&with_id("_abc")).id, "_abc");
    assert_eq!(parse(&with_id("Vraag één: TLS?")).id, "Vraag-n-TLS");
    assert_eq!(parse(&with_id(&"x".repeat(70))).id, "x".repeat(64));
    assert_eq!(
        refused_xml(&with_id("€€")),
        [
            "line 2: the identifier \"€€\" has no letter or digit to make an id of; expected 1-64 of A-Z, a-z, 0-9, '.', '_' and '-'"
        ]
    );
}

#[test]
fn qti3_items_are_read_with_their_kebab_case_names_and_named_so_in_messages() {
    let xml = qti30(
        "<qti-response-declaration identifier=\"RESPONSE\" cardinality=\"ordered\" base-type=\"identifier\">\n\
         <qti-correct-response><qti-value>B</qti-value><qti-value>A</qti-value></qti-correct-response>\n\
         </qti-response-declaration>\n\
         <qti-item-body><qti-order-interaction response-identifier=\"RESPONSE\">\n\
         <qti-prompt>Order the steps.</qti-prompt>\n\
         <qti-simple-choice identifier=\"A\">Revoke</qti-simple-choice>\n\
         <qti-simple-choice identifier=\"B\">Detect</qti-simple-choice>\n\
         <qti-simple-choice identifier=\"C\">Report</qti-simple-choice>\n\
         </qti-order-interaction></qti-item-body>\n",
    );
    assert_eq!(
        refused_xml(&xml),
        [
            "line 4: the <qti-correct-response> of RESPONSE leaves out C; Accredit puts every option in order: expected all of A, B, C"
        ]
    );
    let fixed = xml.replace(
        "<qti-value>A</qti-value>",
        "<qti-value>A</qti-value><qti-value>C</qti-value>",
    );
    let item = parse(&fixed);
    assert_eq!(item.stem, "Order the steps.");
    assert_eq!(
        item.body,
        ItemBody::Ordering {
            choices: choices(&[("B", "Detect"), ("A", "Revoke"), ("C", "Report")])
        }
    );
}

#[test]
fn math_becomes_linear_text_or_its_alttext() {
    let xml = qti21(&format!(
        "{}<itemBody><p>Solve <math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mfrac><mi>a</mi><mn>2</mn></mfrac>\
         <mo>=</mo><msup><mi>x</mi><mn>2</mn></msup><msub><mi>y</mi><mn>1</mn></msub>\
         <semantics><mi>z</mi><annotation encoding=\"LaTeX\">z</annotation></semantics></math> and \
         <math xmlns=\"http://www.w3.org/1998/Math/MathML\" alttext=\"n squared\"><msup><mi>n</mi><mn>2</mn></msup></math>.</p>\n\
         <choiceInteraction responseIdentifier=\"RESPONSE\"><simpleChoice identifier=\"A\">1</simpleChoice>\
         <simpleChoice identifier=\"B\">2</simpleChoice></choiceInteraction></itemBody>\n",
        single("B")
    ));
    assert_eq!(parse(&xml).stem, "Solve a/2=x^2y_1z and n squared.");
}

// ---------------------------------------------------------------------------------------------
// Malformed and refused input written here

#[test]
fn text_that_is_not_xml_is_refused_quoting_its_start() {
    assert_eq!(
        refused(b"\n\nQuestion 1: What is 2+2?\nA) 3\nB) 4\n"),
        [
            "line 3: the file is not XML: it starts with text (\"Question 1: What is 2+2?\"); a QTI item starts with <?xml or <assessmentItem"
        ]
    );
    assert_eq!(
        refused(b"{\"type\": \"single_choice\"}"),
        [
            "line 1: the file is not XML: it looks like JSON (\"{\"type\": \"single_choice\"}\"); a QTI item starts with <?xml or <assessmentItem"
        ]
    );
}

#[test]
fn a_closing_tag_that_does_not_match_names_both_with_line_and_column() {
    let xml = qti21(&format!(
        "{}<itemBody>\n<p>Which?</itemBody>\n",
        single("A")
    ));
    assert_eq!(
        refused_xml(&xml),
        [
            "line 7, column 10: </itemBody> does not close the open <p>; expected </p> first (a tag is left open or closed twice)"
        ]
    );
}

#[test]
fn a_file_cut_short_names_the_element_left_open() {
    let full = choice_item();
    let cut = &full[..full.find("<simpleChoice identifier=\"C\"").unwrap()];
    assert_eq!(
        refused_xml(cut),
        [
            "line 7: <choiceInteraction> is never closed: the file ends (line 10) before its </choiceInteraction>; the file may be cut short"
        ]
    );
}

#[test]
fn xml_slips_are_explained_for_people() {
    let with_p = |p: &str| qti21(&format!("{}<itemBody>\n{p}\n</itemBody>\n", single("A")));
    assert_eq!(
        refused_xml(&with_p("<p>Costs&nbsp;rise</p>")),
        [
            "line 7, column 9: &nbsp; is not defined in XML (HTML entities such as &nbsp; are not); write the character itself or a numeric reference such as &#160;"
        ]
    );
    assert_eq!(
        refused_xml(&with_p("<p>Salt & pepper</p>")),
        ["line 7, column 9: a bare & starts no entity; write it as &amp;"]
    );
    assert_eq!(
        refused_xml(&with_p("<p class=\"a\" class=\"b\">x</p>")),
        ["line 7, column 14: the attribute class is given twice on the same element"]
    );
    assert_eq!(
        refused_xml(&with_p("<m:math>x</m:math>")),
        [
            "line 7, column 2: the prefix m: is used but never declared; expected xmlns:m=\"...\" on this element or an ancestor"
        ]
    );
    assert_eq!(
        refused(b"<!DOCTYPE html>\n<html><body>Hi</body></html>"),
        ["line 1: the file is an HTML page (<!DOCTYPE html>), not a QTI assessmentItem"]
    );
    assert_eq!(
        refused(
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE assessmentItem SYSTEM \"qti.dtd\">\n<assessmentItem/>"
        ),
        ["line 2: the file has a <!DOCTYPE> declaration; QTI items use none: remove it"]
    );
}

#[test]
fn a_root_other_than_assessment_item_is_refused_with_what_it_is() {
    assert_eq!(
        refused(b"<html>\n<body><p>Quiz</p></body>\n</html>\n"),
        ["line 1: not a QTI assessmentItem: the root element is <html>"]
    );
    assert_eq!(
        refused(
            b"<?xml version=\"1.0\"?>\n<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\" identifier=\"m\"/>"
        ),
        [
            "line 2: not a QTI assessmentItem: the root element is <manifest>, the manifest of a content package: import the item files it lists"
        ]
    );
    assert_eq!(
        refused(b"<questestinterop><item ident=\"1\"/></questestinterop>"),
        [
            "line 1: not a QTI assessmentItem: the root element is <questestinterop>, a QTI 1.x file: Accredit reads QTI 2.x and 3.0 items"
        ]
    );
}

#[test]
fn the_root_must_be_in_a_qti_namespace_that_fits_its_names() {
    let no_namespace =
        choice_item().replace(" xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\"", "");
    assert_eq!(
        refused_xml(&no_namespace),
        [
            "line 2: <assessmentItem> has no namespace; expected xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""
        ]
    );
    let other = choice_item().replace("imsqti_v2p1", "imsqti_v9");
    assert_eq!(
        refused_xml(&other),
        [
            "line 2: <assessmentItem> is in the namespace \"http://www.imsglobal.org/xsd/imsqti_v9\", which is no QTI 2.x or 3.0 namespace; expected xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""
        ]
    );
}

#[test]
fn an_item_without_identifier_is_refused() {
    let xml = choice_item().replace(" identifier=\"q1\"", "");
    assert_eq!(
        refused_xml(&xml),
        ["line 2: <assessmentItem> has no identifier; expected identifier=\"...\" naming the item"]
    );
}

#[test]
fn an_interaction_naming_no_response_declaration_is_refused() {
    let xml = choice_item().replace(
        "<choiceInteraction responseIdentifier=\"RESPONSE\"",
        "<choiceInteraction responseIdentifier=\"ANSWER\"",
    );
    assert_eq!(
        refused_xml(&xml),
        [
            "line 7: <choiceInteraction responseIdentifier=\"ANSWER\"> names no responseDeclaration; expected <responseDeclaration identifier=\"ANSWER\">"
        ]
    );
    let qti3 = qti30(
        "<qti-item-body><qti-choice-interaction response-identifier=\"R\">\
         <qti-simple-choice identifier=\"A\">a</qti-simple-choice></qti-choice-interaction></qti-item-body>\n",
    );
    assert_eq!(
        refused_xml(&qti3),
        [
            "line 3: <qti-choice-interaction response-identifier=\"R\"> names no qti-response-declaration; expected <qti-response-declaration identifier=\"R\">"
        ]
    );
}

#[test]
fn an_empty_correct_response_or_value_is_refused() {
    let empty = choice_item().replace(
        "<correctResponse><value>B</value></correctResponse>",
        "<correctResponse>\n</correctResponse>",
    );
    assert_eq!(
        refused_xml(&empty),
        ["line 4: <correctResponse> of RESPONSE is empty; expected at least one <value>"]
    );
    let blank = choice_item().replace("<value>B</value>", "<value> </value>");
    assert_eq!(
        refused_xml(&blank),
        [
            "line 4: <value> in the <correctResponse> of RESPONSE is empty; expected the identifier of an option"
        ]
    );
}

#[test]
fn a_key_naming_no_option_lists_the_options() {
    let xml = choice_item().replace("<value>B</value>", "<value>Z</value>");
    assert_eq!(
        refused_xml(&xml),
        [
            "line 4: <value>Z</value> names no option of <choiceInteraction responseIdentifier=\"RESPONSE\"> at line 7; expected one of: A, B, C"
        ]
    );
}

#[test]
fn two_interactions_are_refused_at_the_second() {
    let xml = choice_item().replace(
        "</itemBody>",
        "<p>And <textEntryInteraction responseIdentifier=\"R2\"/></p>\n</itemBody>",
    );
    assert_eq!(
        refused_xml(&xml),
        [
            "line 13: <textEntryInteraction responseIdentifier=\"R2\"> is a second interaction after <choiceInteraction responseIdentifier=\"RESPONSE\"> at line 7 (the item has 2); an Accredit item has exactly one interaction: make one item per interaction"
        ]
    );
}

#[test]
fn an_item_body_without_interaction_or_question_is_refused() {
    assert_eq!(
        refused_xml(&qti21(&format!(
            "{}<itemBody>\n<p>Just text.</p>\n</itemBody>\n",
            single("A")
        ))),
        [
            "line 6: <itemBody> holds no interaction; expected one of: choice, order, match, associate, text entry, hottext, inline choice"
        ]
    );
    assert_eq!(
        refused_xml(&qti21(&single("A"))),
        [
            "line 2: <assessmentItem identifier=\"q1\"> has no <itemBody>; expected the question inside one"
        ]
    );
    let no_question = choice_item().replace("<prompt>Which?</prompt>", "");
    assert_eq!(
        refused_xml(&no_question),
        ["line 6: <itemBody> has no question text; expected a <p> or a <prompt> with the question"]
    );
}

#[test]
fn unsupported_interactions_are_refused_with_the_reason_and_what_is_supported() {
    let with = |interaction: &str| {
        refused_xml(&qti21(&format!(
            "{}<itemBody>\n<p>Q</p>\n{interaction}\n</itemBody>\n",
            single("A")
        )))
    };
    assert_eq!(
        with("<uploadInteraction responseIdentifier=\"RESPONSE\"/>"),
        [format!(
            "line 8: <uploadInteraction responseIdentifier=\"RESPONSE\"> asks for an uploaded file that only a person can score; {SUPPORTED_LIST}"
        )]
    );
    assert_eq!(
        with("<div><customInteraction responseIdentifier=\"RESPONSE\"/></div>"),
        [format!(
            "line 8: <customInteraction responseIdentifier=\"RESPONSE\"> is a custom interaction whose answers Accredit cannot know; {SUPPORTED_LIST}"
        )]
    );
    assert_eq!(
        with("<fooInteraction responseIdentifier=\"RESPONSE\"/>"),
        [format!(
            "line 8: <fooInteraction responseIdentifier=\"RESPONSE\"> is not an interaction Accredit knows; {SUPPORTED_LIST}"
        )]
    );
}

#[test]
fn templates_and_includes_are_refused() {
    let template = qti21(&format!(
        "{}<templateDeclaration identifier=\"N\" cardinality=\"single\" baseType=\"integer\"/>\n",
        single("A")
    ));
    assert_eq!(
        refused_xml(&template),
        [
            "line 6: <templateDeclaration identifier=\"N\"> makes the item a template whose text and key change per attempt; an Accredit item is fixed: export one item per variant"
        ]
    );
    let include = choice_item().replace(
        "<prompt>",
        "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"stem.xml\"/><prompt>",
    );
    assert_eq!(
        refused_xml(&include),
        [
            "line 8: <include> pulls content from another file, which an item imported on its own cannot have; put the content in the item"
        ]
    );
}

#[test]
fn keys_that_break_the_interactions_rules_are_refused_each_at_its_line() {
    let two = choice_item().replace("<value>B</value>", "<value>B</value><value>C</value>");
    assert_eq!(
        refused_xml(&two),
        [
            "line 4: <correctResponse> of RESPONSE has 2 values (B, C) but the cardinality is \"single\"; expected one <value>"
        ]
    );
    let ordered = choice_item().replace("cardinality=\"single\"", "cardinality=\"ordered\"");
    assert_eq!(
        refused_xml(&ordered),
        [
            "line 3: <responseDeclaration identifier=\"RESPONSE\"> has cardinality=\"ordered\"; <choiceInteraction responseIdentifier=\"RESPONSE\"> expects cardinality=\"single\" or \"multiple\""
        ]
    );
    let options = choice_item().replace(">Gamma<", "><").replace(
        "<simpleChoice identifier=\"A\"",
        "<simpleChoice identifier=\"B\"",
    );
    assert_eq!(
        refused_xml(&options),
        [
            "line 10: <simpleChoice identifier=\"B\"> repeats the identifier of line 9; each option needs its own",
            "line 11: <simpleChoice identifier=\"C\"> has no text; expected the option's words",
        ]
    );
}

#[test]
fn match_keys_must_pair_every_prompt_once_source_first() {
    let xml = |values: &str| {
        qti21(&format!(
            "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"directedPair\">\n\
             <correctResponse>{values}</correctResponse>\n</responseDeclaration>\n\
             <itemBody><matchInteraction responseIdentifier=\"RESPONSE\">\n<prompt>Match.</prompt>\n\
             <simpleMatchSet><simpleAssociableChoice identifier=\"P1\">p1</simpleAssociableChoice>\
             <simpleAssociableChoice identifier=\"P2\">p2</simpleAssociableChoice></simpleMatchSet>\n\
             <simpleMatchSet><simpleAssociableChoice identifier=\"T1\">t1</simpleAssociableChoice>\
             <simpleAssociableChoice identifier=\"T2\">t2</simpleAssociableChoice></simpleMatchSet>\n\
             </matchInteraction></itemBody>\n"
        ))
    };
    assert_eq!(
        parse(&xml("<value>P1 T2</value><value>P2 T2</value>")).body,
        ItemBody::Matching {
            prompts: choices(&[("P1", "p1"), ("P2", "p2")]),
            targets: choices(&[("T1", "t1"), ("T2", "t2")]),
            pairs: vec![("P1".into(), "T2".into()), ("P2".into(), "T2".into())],
        }
    );
    assert_eq!(
        refused_xml(&xml("<value>P1 T2</value>")),
        [
            "line 4: the key of RESPONSE matches no target to P2; an Accredit matching item pairs every prompt of the first <simpleMatchSet>"
        ]
    );
    assert_eq!(
        refused_xml(&xml(
            "<value>T1 P1</value><value>P1 T1</value><value>P2 T1</value><value>P2 T2</value><value>P2</value><value>P1 T9</value>"
        )),
        [
            "line 4: <value>T1 P1</value> is reversed; expected the option of the first <simpleMatchSet> first: \"P1 T1\"",
            "line 4: <value>P2 T2</value> matches P2 a second time (also with T1); an Accredit matching item gives each prompt one target",
            "line 4: <value>P2</value> of RESPONSE is not a pair; expected two option identifiers separated by a space, such as \"A B\"",
            "line 4: <value>P1 T9</value> names T9, which is no option of the second <simpleMatchSet>; expected one of: T1, T2",
        ]
    );
}

#[test]
fn an_option_in_two_associate_pairs_is_refused() {
    let xml = qti21(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"pair\">\n\
         <correctResponse><value>A B</value>\n<value>C B</value></correctResponse>\n</responseDeclaration>\n\
         <itemBody><associateInteraction responseIdentifier=\"RESPONSE\">\n<prompt>Pair them.</prompt>\
         <simpleAssociableChoice identifier=\"A\">a</simpleAssociableChoice>\
         <simpleAssociableChoice identifier=\"B\">b</simpleAssociableChoice>\
         <simpleAssociableChoice identifier=\"C\">c</simpleAssociableChoice>\n\
         </associateInteraction></itemBody>\n",
    );
    assert_eq!(
        refused_xml(&xml),
        [
            "line 5: <value>C B</value> pairs B a second time; Accredit turns the pairs into a matching item, where each option is in one pair at most"
        ]
    );
}

#[test]
fn an_empty_file_and_whitespace_are_refused() {
    assert_eq!(refused(b""), ["the file is empty"]);
    assert_eq!(refused(b" \n\t\n"), ["the file contains only whitespace"]);
}

#[test]
fn text_that_is_not_utf8_is_refused_unless_declared_latin1() {
    let latin1 = b"<?xml version=\"1.0\"?>\n<assessmentItem>\n<p>caf\xe9</p>";
    assert_eq!(
        refused(latin1),
        ["the file is not UTF-8 text (invalid byte 0xe9 on line 3); save it as UTF-8"]
    );
    let declared = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<a>caf\xe9</a>";
    assert_eq!(
        refused(declared),
        [
            "the file is encoded as windows-1252 (its XML declaration says so), which Accredit does not read; save it as UTF-8"
        ]
    );
    let mut item: Vec<u8> = choice_item()
        .replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1)
        .replace("Alpha", "Caf\u{1}")
        .into_bytes();
    let at = item.iter().position(|b| *b == 1).unwrap();
    item[at] = 0xe9;
    match parse_item(&item, &options()).unwrap().body {
        ItemBody::SingleChoice { choices, .. } => assert_eq!(choices[0].text, "Café"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn utf16_with_a_byte_order_mark_is_read_and_without_one_refused() {
    let text = choice_item().replacen("UTF-8", "UTF-16", 1);
    let mut le = vec![0xff, 0xfe];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(parse_item(&le, &options()).unwrap().stem, "Which?");
    assert_eq!(
        refused(&le[2..]),
        ["the file looks like UTF-16 text without a byte-order mark; save it as UTF-8"]
    );
}

#[test]
fn binary_files_are_refused_and_known_ones_named() {
    let mut binary = vec![0u8; 64];
    binary[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
    binary[20] = b'<';
    assert_eq!(
        refused(&binary),
        ["the file is binary, not XML text (56 of its 64 characters are NUL)"]
    );
    assert_eq!(
        refused(b"PK\x03\x04\x14\x00\x00\x00"),
        [
            "the file is a ZIP archive (a QTI content package is one: upload the item's .xml file from inside it), not a QTI item"
        ]
    );
    assert_eq!(
        refused(b"\x89PNG\r\n\x1a\n"),
        ["the file is a PNG image, not a QTI item"]
    );
}

#[test]
fn a_document_over_five_megabytes_is_refused_before_it_is_read() {
    let mut huge = choice_item().into_bytes();
    huge.extend(std::iter::repeat_n(b' ', 5 * 1024 * 1024));
    assert_eq!(
        refused(&huge),
        [
            "the file is 5.0 MB; a QTI item may be at most 5 MB (images and media belong in the content package beside it, not inside the item)"
        ]
    );
}

#[test]
fn a_large_item_just_under_the_limit_is_read_in_linear_time() {
    // 40,000 hottexts, every one in the key: anything quadratic would take minutes.
    let mut passage = String::new();
    let mut values = String::new();
    for i in 0..40_000 {
        passage.push_str(&format!("<hottext identifier=\"h{i}\">w{i}</hottext> "));
        values.push_str(&format!("<value>h{i}</value>"));
    }
    let xml = qti21(&format!(
        "<responseDeclaration identifier=\"RESPONSE\" cardinality=\"multiple\" baseType=\"identifier\">\n\
         <correctResponse>{values}</correctResponse>\n</responseDeclaration>\n\
         <itemBody><hottextInteraction responseIdentifier=\"RESPONSE\"><p>{passage}</p></hottextInteraction></itemBody>\n"
    ));
    assert!(xml.len() < MAX_BYTES);
    let started = std::time::Instant::now();
    match parse(&xml).body {
        ItemBody::MultipleResponse { choices, correct } => {
            assert_eq!((choices.len(), correct.len()), (40_000, 40_000));
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

#[test]
fn absurd_nesting_is_refused_before_it_is_walked() {
    let deep = format!(
        "{}{}",
        "<div>".repeat(MAX_DEPTH + 5),
        "</div>".repeat(MAX_DEPTH + 5)
    );
    let xml = qti21(&format!("<itemBody>\n{deep}\n</itemBody>\n"));
    assert_eq!(
        refused_xml(&xml),
        ["line 4: <div> is nested 201 elements deep; a QTI item needs far fewer, at most 200"]
    );
}

#[test]
fn more_than_a_hundred_problems_are_capped() {
    let mut body = String::new();
    for i in 0..150 {
        body.push_str(&format!(
            "<simpleChoice identifier=\"c{i}\"></simpleChoice>\n"
        ));
    }
    let xml = qti21(&format!(
        "{}<itemBody><choiceInteraction responseIdentifier=\"RESPONSE\">\n{body}</choiceInteraction></itemBody>\n",
        single("c1")
    ));
    let errors = refused_xml(&xml);
    assert_eq!(errors.len(), 101);
    assert_eq!(
        errors[0],
        "line 7: <simpleChoice identifier=\"c0\"> has no text; expected the option's words"
    );
    assert_eq!(errors[100], "50 more problems are not listed");
}

// ---------------------------------------------------------------------------------------------
// Real-world fixtures (../shared/fixtures; see SOURCES.md there)

#[test]
fn qti21_choice_fixtures_give_their_options_and_key() {
    let luggage = choices(&[
        ("ChoiceA", "You must stay with your luggage at all times."),
        (
            "ChoiceB",
            "Do not let someone else look after your luggage.",
        ),
        ("ChoiceC", "Remember your luggage when you leave."),
    ]);
    // QTI 2.0, 2.1 and 2.2 namespaces: the same item.
    for name in [
        "qti21/choice.xml",
        "qti21/edge-qti20-choice.xml",
        "qti21/edge-qti22-choice.xml",
    ] {
        let Some(item) = fixture_item(name) else {
            return;
        };
        assert_eq!(item.id, "choice", "{name}");
        assert_eq!(
            item.stem,
            "Look at the text in the picture.\n[image: NEVER LEAVE LUGGAGE UNATTENDED]\nWhat does it say?",
            "{name}"
        );
        assert_eq!(
            item.body,
            ItemBody::SingleChoice {
                choices: luggage.clone(),
                correct: "ChoiceA".into()
            },
            "{name}"
        );
        assert_eq!((item.artifact, item.rationale.as_str()), (None, ""));
    }
    let Some(fixed) = fixture_item("qti21/choice_fixed.xml") else {
        return;
    };
    let mut with_none = luggage;
    with_none.push(Choice {
        id: "ChoiceD".into(),
        text: "None of the above.".into(),
    });
    assert_eq!(
        fixed.body,
        ItemBody::SingleChoice {
            choices: with_none,
            correct: "ChoiceA".into()
        }
    );
}

#[test]
fn qti21_choice_multiple_fixture_is_a_multiple_response_keyed_by_its_correct_response() {
    let Some(item) = fixture_item("qti21/choice_multiple.xml") else {
        return;
    };
    assert_eq!(item.id, "choiceMultiple");
    assert_eq!(
        item.stem,
        "Which of the following elements are used to form water?"
    );
    assert_eq!(
        item.body,
        ItemBody::MultipleResponse {
            choices: choices(&[
                ("H", "Hydrogen"),
                ("He", "Helium"),
                ("C", "Carbon"),
                ("O", "Oxygen"),
                ("N", "Nitrogen"),
                ("Cl", "Chlorine"),
            ]),
            correct: vec!["H".into(), "O".into()],
        }
    );
}

#[test]
fn qti21_order_fixture_lists_the_drivers_in_finishing_order() {
    let Some(item) = fixture_item("qti21/order.xml") else {
        return;
    };
    assert_eq!(
        item.stem,
        "The following F1 drivers finished on the podium in the first ever Grand Prix of Bahrain. Can you rearrange them into the correct finishing order?"
    );
    assert_eq!(
        item.body,
        ItemBody::Ordering {
            choices: choices(&[
                ("DriverC", "Michael Schumacher"),
                ("DriverA", "Rubens Barrichello"),
                ("DriverB", "Jenson Button"),
            ])
        }
    );
}

#[test]
fn qti21_match_fixture_pairs_characters_with_plays() {
    let Some(item) = fixture_item("qti21/match.xml") else {
        return;
    };
    assert_eq!(
        item.stem,
        "Match the following characters to the Shakespeare play they appeared in:"
    );
    assert_eq!(
        item.body,
        ItemBody::Matching {
            prompts: choices(&[
                ("C", "Capulet"),
                ("D", "Demetrius"),
                ("L", "Lysander"),
                ("P", "Prospero"),
            ]),
            // "The\n\t\t\t\tTempest" reads as "The Tempest".
            targets: choices(&[
                ("M", "A Midsummer-Night's Dream"),
                ("R", "Romeo and Juliet"),
                ("T", "The Tempest"),
            ]),
            pairs: vec![
                ("C".into(), "R".into()),
                ("D".into(), "M".into()),
                ("L".into(), "M".into()),
                ("P".into(), "T".into()),
            ],
        }
    );
}

#[test]
fn qti21_associate_fixture_becomes_matching_rivals() {
    let Some(item) = fixture_item("qti21/associate.xml") else {
        return;
    };
    assert_eq!(
        item.stem,
        "Hidden in this list of characters from famous Shakespeare plays are three pairs of rivals. Can you match each character to his adversary?"
    );
    assert_eq!(
        item.body,
        ItemBody::Matching {
            prompts: choices(&[("A", "Antonio"), ("C", "Capulet"), ("D", "Demetrius")]),
            targets: choices(&[("L", "Lysander"), ("M", "Montague"), ("P", "Prospero")]),
            pairs: vec![
                ("A".into(), "P".into()),
                ("C".into(), "M".into()),
                ("D".into(), "L".into()),
            ],
        }
    );
}

const RICHARD_III: &str = "Identify the missing word in this famous quote from Shakespeare's Richard III.\n\
     Now is the winter of our discontent\n\
     Made glorious summer by this sun of _____;\n\
     And all the clouds that lour'd upon our house\n\
     In the deep bosom of the ocean buried.";

#[test]
fn qti21_text_entry_fixture_accepts_york_in_any_case() {
    let Some(item) = fixture_item("qti21/text_entry.xml") else {
        return;
    };
    assert_eq!(item.id, "textEntry");
    assert_eq!(item.stem, RICHARD_III);
    // The 0.5-credit "york" is the same answer once case is ignored, as Accredit ignores it.
    assert_eq!(
        item.body,
        ItemBody::ShortText {
            accepted: vec![TextAnswer::Exact("York".into())]
        }
    );
}

#[test]
fn qti21_inline_choice_fixture_is_a_single_choice_with_a_blank_in_the_stem() {
    let Some(item) = fixture_item("qti21/inline_choice.xml") else {
        return;
    };
    assert_eq!(item.stem, RICHARD_III);
    assert_eq!(
        item.body,
        ItemBody::SingleChoice {
            choices: choices(&[("G", "Gloucester"), ("L", "Lancaster"), ("Y", "York")]),
            correct: "Y".into(),
        }
    );
}

#[test]
fn qti21_hottext_fixture_is_a_choice_among_the_hottexts_with_the_passage_in_the_stem() {
    let Some(item) = fixture_item("qti21/hottext.xml") else {
        return;
    };
    assert_eq!(item.id, "IMS00004_StemError");
    assert_eq!(
        item.stem,
        "Select the error in the following passage of text (or No Error if there is none).\n\
         Sponsors of the Olympic Games who bought advertising time on United States television \
         includes at least a dozen international firms whose names are familiar to American \
         consumers. No error."
    );
    assert_eq!(
        item.body,
        ItemBody::SingleChoice {
            choices: choices(&[
                ("A", "who bought"),
                ("B", "includes"),
                ("C", "at least"),
                ("D", "whose"),
                ("E", "No error."),
            ]),
            correct: "B".into(),
        }
    );
}

#[test]
fn qti21_math_fixtures_read_mathml_as_linear_text() {
    let Some(math) = fixture_item("qti21/math.xml") else {
        return;
    };
    assert_eq!(
        math.stem,
        "Which famous scientist is popularly associated with the equation E=mc^2 ?"
    );
    assert!(matches!(&math.body, ItemBody::SingleChoice { correct, .. } if correct == "E"));
    // Also: a schemaLocation with a bare file name, which nothing here reads.
    let Some(quadratic) = fixture_item("qti21/custom-no_schema_location.xml") else {
        return;
    };
    assert_eq!(quadratic.id, "Q02");
    assert_eq!(
        quadratic.stem,
        "5x^2+7x+1=0\nWhat is the discriminant of the above quadratic equation?"
    );
    assert_eq!(
        quadratic.body,
        ItemBody::SingleChoice {
            choices: choices(&[
                ("discr1", "-16"),
                ("discr2", "33"),
                ("discr3", "29"),
                ("discr4", "-84")
            ]),
            correct: "discr3".into(),
        }
    );
}

#[test]
fn qti21_true_false_fixtures_stay_single_choices_and_keep_feedback_apart() {
    let true_false = ItemBody::SingleChoice {
        choices: choices(&[("true", "True"), ("false", "False")]),
        correct: "true".into(),
    };
    let Some(modal) = fixture_item("qti21/modalFeedback.xml") else {
        return;
    };
    assert_eq!(
        modal.stem,
        "Sigmund Freud and Carl Jung both belong to the psychoanalytic school of psychology."
    );
    assert_eq!(modal.body, true_false);
    // Both modal feedbacks: which one a player would show depends on the response.
    assert_eq!(modal.rationale, "correct\nincorrect");
    let Some(inline) = fixture_item("qti21/feedbackInline.xml") else {
        return;
    };
    // Per-option feedback is neither option text nor rationale.
    assert_eq!(inline.body, true_false);
    assert_eq!(inline.rationale, "");
}

#[test]
fn qti21_unresolvable_response_processing_template_does_not_matter_to_the_key() {
    // The item's own templateLocation points at a file that is not there; Accredit scores by the
    // correct response and never runs response processing, so the item is complete.
    let Some(item) = fixture_item("qti21/custom-template_location_item_invalid_target.xml") else {
        return;
    };
    assert_eq!(item.id, "telephone");
    assert_eq!(item.stem, "Who is the inventor of the telephone?");
    assert_eq!(
        item.body,
        ItemBody::SingleChoice {
            choices: choices(&[
                ("ChoiceA", "Alexander Graham Bell"),
                ("ChoiceB", "Henri Owen Tudor"),
                ("ChoiceC", "Bill Gates"),
            ]),
            correct: "ChoiceA".into(),
        }
    );
}

#[test]
fn qti21_fixtures_accredit_cannot_score_are_refused_at_the_line_that_says_why() {
    let graphical = "asks for a graphical answer that Accredit cannot score";
    let cases: &[(&str, String)] = &[
        (
            "qti21/adaptive.xml",
            "line 87: <choiceInteraction responseIdentifier=\"RESPONSE\"> is a second interaction after <choiceInteraction responseIdentifier=\"DOOR\"> at line 48 (the item has 2); an Accredit item has exactly one interaction: make one item per interaction".into(),
        ),
        (
            "qti21/multi-input.xml",
            "line 80: <inlineChoiceInteraction responseIdentifier=\"RESPONSE2\"> is a second interaction after <choiceInteraction responseIdentifier=\"RESPONSE1\"> at line 66 (the item has 4); an Accredit item has exactly one interaction: make one item per interaction".into(),
        ),
        (
            "qti21/extended_text.xml",
            format!("line 20: <extendedTextInteraction responseIdentifier=\"RESPONSE\"> asks for a written answer that only a person can score; {SUPPORTED_LIST}"),
        ),
        (
            // Its empty mapKey never matters: the interaction is refused first.
            "qti21/custom-extended_text_empty_mapentry.xml",
            format!("line 12: <extendedTextInteraction responseIdentifier=\"RESPONSE\"> asks for a written answer that only a person can score; {SUPPORTED_LIST}"),
        ),
        (
            "qti21/gap_match.xml",
            format!("line 18: <gapMatchInteraction responseIdentifier=\"RESPONSE\"> asks to drag words into gaps, which Accredit does not offer; {SUPPORTED_LIST}"),
        ),
        (
            "qti21/graphic_gap_match.xml",
            format!("line 22: <graphicGapMatchInteraction responseIdentifier=\"RESPONSE\"> {graphical}; {SUPPORTED_LIST}"),
        ),
        (
            "qti21/hotspot.xml",
            format!("line 15: <hotspotInteraction responseIdentifier=\"RESPONSE\"> {graphical}; {SUPPORTED_LIST}"),
        ),
        (
            "qti21/select_point.xml",
            format!("line 16: <selectPointInteraction responseIdentifier=\"RESPONSE\"> {graphical}; {SUPPORTED_LIST}"),
        ),
        (
            "qti21/slider.xml",
            format!("line 27: <sliderInteraction responseIdentifier=\"RESPONSE\"> asks for a value on a slider, which Accredit does not offer; {SUPPORTED_LIST}"),
        ),
        (
            "qti21/template.xml",
            "line 8: <templateDeclaration identifier=\"PEOPLE\"> makes the item a template whose text and key change per attempt; an Accredit item is fixed: export one item per variant".into(),
        ),
        (
            "qti21/mc_calc3.xml",
            "line 10: <templateDeclaration identifier=\"i\"> makes the item a template whose text and key change per attempt; an Accredit item is fixed: export one item per variant".into(),
        ),
        (
            "qti21/feedbackblock_solution_random.xml",
            "line 28: <templateDeclaration identifier=\"iA\"> makes the item a template whose text and key change per attempt; an Accredit item is fixed: export one item per variant".into(),
        ),
        (
            // A questionnaire: there is no right answer to score against.
            "qti21/likert.xml",
            "line 6: <responseDeclaration identifier=\"RESPONSE\"> gives no correct answer; expected a <correctResponse> (or a <mapping> that gives an answer a positive value): Accredit scores every item against its key".into(),
        ),
    ];
    for (name, expected) in cases {
        let Some(errors) = fixture_refused(name) else {
            return;
        };
        assert_eq!(errors, [expected.as_str()], "{name}");
    }
}

#[test]
fn qti30_choice_fixtures_give_their_options_and_key() {
    let Some(cito) = fixture_item("qti30/cito-example-choice-item.xml") else {
        return;
    };
    assert_eq!(cito.id, "ITM-choice");
    assert_eq!(
        cito.stem,
        "Look at the text in the picture.\n[image: NEVER LEAVE LUGGAGE UNATTENDED]\nWhat does it say?"
    );
    assert_eq!(
        cito.body,
        ItemBody::SingleChoice {
            choices: choices(&[
                ("ChoiceA", "You must stay with your luggage at all times."),
                (
                    "ChoiceB",
                    "Do not let someone else look after your luggage."
                ),
                ("ChoiceC", "Remember your luggage when you leave."),
            ]),
            correct: "ChoiceA".into(),
        }
    );
    let Some(dutch) = fixture_item("qti30/kennisnet-simple-choice-processing.xml") else {
        return;
    };
    // `_f` is no digit: the underscore stays.
    assert_eq!(dutch.id, "_fe570502-35d0-50d2-976d-53343578a79b");
    assert_eq!(dutch.stem, "Is dit een meerkeuze vraag?");
    assert_eq!(
        dutch.body,
        ItemBody::SingleChoice {
            choices: choices(&[("CHOICE1", "Ja"), ("CHOICE2", "Nee")]),
            correct: "CHOICE1".into(),
        }
    );
}

#[test]
fn qti30_inline_choice_and_text_entry_fixtures_read_like_their_qti21_versions() {
    let Some(inline) = fixture_item("qti30/cito-example-inline-choice.xml") else {
        return;
    };
    assert_eq!(inline.id, "ITM-inline_choice");
    // The fixture has a line break between the interaction and its semicolon.
    assert_eq!(inline.stem, RICHARD_III.replace("_____;", "_____ ;"));
    assert_eq!(
        inline.body,
        ItemBody::SingleChoice {
            choices: choices(&[("G", "Gloucester"), ("L", "Lancaster"), ("Y", "York")]),
            correct: "Y".into(),
        }
    );
    // Its namespace has an extra /qti/ that no schema has; nothing else could be meant.
    let Some(entry) = fixture_item("qti30/cito-example-text-entry.xml") else {
        return;
    };
    assert_eq!(entry.id, "bpig010");
    assert_eq!(entry.stem, RICHARD_III);
    assert_eq!(
        entry.body,
        ItemBody::ShortText {
            accepted: vec![TextAnswer::Exact("York".into())]
        }
    );
}

#[test]
fn qti30_match_fixture_with_text_options_is_a_matching_item() {
    let Some(item) = fixture_item("qti30/kennisnet-validator-item001.xml") else {
        return;
    };
    assert_eq!(item.id, "_d0548197-7c6e-58f9-88fd-30b64930a6b4");
    assert_eq!(item.stem, "Combineer de teksten");
    assert_eq!(
        item.body,
        ItemBody::Matching {
            prompts: choices(&[
                ("A1", "Berlijn"),
                ("A2", "Amsterdam"),
                ("A3", "Parijs"),
                ("A4", "Brussel"),
            ]),
            targets: choices(&[
                ("B1", "Duitsland"),
                ("B2", "Nederland"),
                ("B3", "Frankrijk"),
                ("B4", "Belgie"),
            ]),
            pairs: (1..=4)
                .map(|i| (format!("A{i}"), format!("B{i}")))
                .collect(),
        }
    );
    assert_eq!(
        item.rationale,
        "Je hebt de correcte antwoorden gegeven.\nHelaas je hebt de verkeerde antwoorden gegeven."
    );
}

#[test]
fn qti30_draft_samples_with_camel_case_names_in_the_qti3_namespace_are_read() {
    let Some(tom) = fixture_item("qti30/qtisdk-aqti_tmh_sample_1.xml") else {
        return;
    };
    let options = choices(&[
        ("optionA", "About 200"),
        ("optionB", "About 100"),
        ("optionC", "About 50"),
    ]);
    assert_eq!(tom.id, "aqti_tmh_sample_1");
    // The catalog (linguistic support cards) is outside the item body and not part of the stem.
    assert_eq!(
        tom.stem,
        "Tom walks to and from his harmonica lessons once a week. His house on Ordinary Dr. is a 2 kilometre walk to his teacher's house on Spectacular St.\n\
         How many kilometres will he walk in a year for his harmonica lessons?"
    );
    assert_eq!(
        tom.body,
        ItemBody::SingleChoice {
            choices: options.clone(),
            correct: "optionA".into()
        }
    );
    let Some(grace) = fixture_item("qti30/qtisdk-aqti_tmh_sample_2.xml") else {
        return;
    };
    // SSML's spoken alias is for speech; the text shows the written abbreviation.
    assert_eq!(
        grace.stem,
        "Grace walks to and from her harmonica lessons once a week. Her house on Maple Dr. is a 2 kilometre walk to her teacher's house on Chestnut St.\n\
         How many kilometres will she walk in a year for her harmonica lessons?"
    );
    assert_eq!(
        grace.body,
        ItemBody::SingleChoice {
            choices: options,
            correct: "optionA".into()
        }
    );
}

#[test]
fn qti30_fixtures_invalid_only_in_outcomes_or_response_processing_still_import() {
    // Upstream these are negative tests for a processing engine: a wrong tag in an outcome's
    // default value, an else-if after the else. Accredit reads neither (it scores against the
    // correct response), and the question and key are intact, so the items import.
    for name in [
        "qti30/kennisnet-default-value-wrong-tag.xml",
        "qti30/kennisnet-else-if-after-else.xml",
    ] {
        let Some(item) = fixture_item(name) else {
            return;
        };
        assert_eq!(item.stem, "Is dit een meerkeuze vraag?", "{name}");
        assert_eq!(
            item.body,
            ItemBody::SingleChoice {
                choices: choices(&[("CHOICE1", "Ja"), ("CHOICE2", "Nee")]),
                correct: "CHOICE1".into(),
            },
            "{name}"
        );
    }
}

#[test]
fn qti30_empty_correct_response_values_are_refused_not_replaced_by_the_mapping() {
    // The correct response is there but its values are empty: falling back to the mapping would
    // guess at what the author meant. The image-only targets could not be shown either.
    let Some(errors) = fixture_refused("qti30/kennisnet-empty-correct-response-value.xml") else {
        return;
    };
    assert_eq!(
        errors,
        [
            "line 5: <qti-value> in the <qti-correct-response> of RESPONSE is empty; expected a pair such as \"A B\"",
            "line 6: <qti-value> in the <qti-correct-response> of RESPONSE is empty; expected a pair such as \"A B\"",
            "line 33: <qti-simple-associable-choice identifier=\"B1\"> shows only an image without alt text; Accredit shows options as text: give the image an alt text",
            "line 36: <qti-simple-associable-choice identifier=\"B2\"> shows only an image without alt text; Accredit shows options as text: give the image an alt text",
        ]
    );
}

#[test]
fn qti30_match_fixtures_with_image_targets_are_refused_at_each_image() {
    for (name, first) in [
        ("qti30/kennisnet-simple-match-processing.xml", 38),
        ("qti30/kennisnet-map-response-template.xml", 32),
        ("qti30/kennisnet-non-existing-outcome.xml", 33),
        ("qti30/kennisnet-various-expressions.xml", 33),
        ("qti30/kennisnet-with-else-if.xml", 33),
        ("qti30/kennisnet-wrong-expression-element.xml", 33),
        ("qti30/kennisnet-wrong-processing-element.xml", 33),
    ] {
        let Some(errors) = fixture_refused(name) else {
            return;
        };
        let image = |line: usize, id: &str| {
            format!(
                "line {line}: <qti-simple-associable-choice identifier=\"{id}\"> shows only an image without alt text; Accredit shows options as text: give the image an alt text"
            )
        };
        assert_eq!(
            errors,
            [image(first, "B1"), image(first + 3, "B2")],
            "{name}"
        );
    }
}

#[test]
fn qti30_fixtures_accredit_cannot_score_are_refused_at_the_line_that_says_why() {
    let graphical = "asks for a graphical answer that Accredit cannot score";
    let written = "asks for a written answer that only a person can score";
    let no_key = "gives no correct answer; expected a <qti-correct-response> (or a <qti-mapping> that gives an answer a positive value): Accredit scores every item against its key";
    let cases: &[(&str, String)] = &[
        (
            // The 1EdTech conformance negative test: QTI 3 names under the QTI 2.2 namespace.
            "qti30/conformance-base-type-string-invalid.xml",
            "line 1: <qti-assessment-item> is a QTI 3.0 element but its namespace is QTI 2.2's (http://www.imsglobal.org/xsd/imsqti_v2p2); expected xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\"".into(),
        ),
        (
            // Conformance items for rendering: they declare no key.
            "qti30/conformance-order-interaction.xml",
            format!("line 9: <qti-response-declaration identifier=\"RESPONSE\"> {no_key}"),
        ),
        (
            "qti30/conformance-associate-interaction.xml",
            format!("line 9: <qti-response-declaration identifier=\"RESPONSE\"> {no_key}"),
        ),
        (
            "qti30/conformance-alternate-text-for-graphics.xml",
            format!("line 15: <qti-extended-text-interaction response-identifier=\"RESPONSE\"> {written}; {SUPPORTED_LIST}"),
        ),
        (
            "qti30/kennisnet-without-response-processing.xml",
            format!("line 17: <qti-extended-text-interaction response-identifier=\"RESPONSE\"> {written}; {SUPPORTED_LIST}"),
        ),
        (
            "qti30/conformance-gap-match-example-2.xml",
            format!("line 43: <qti-gap-match-interaction response-identifier=\"RESPONSE\"> asks to drag words into gaps, which Accredit does not offer; {SUPPORTED_LIST}"),
        ),
        (
            "qti30/conformance-graphic-gap-match-interaction-1.xml",
            format!("line 25: <qti-graphic-gap-match-interaction response-identifier=\"RESPONSE\"> {graphical}; {SUPPORTED_LIST}"),
        ),
        (
            "qti30/cito-example-graphic-order.xml",
            format!("line 27: <qti-graphic-order-interaction response-identifier=\"RESPONSE\"> {graphical}; {SUPPORTED_LIST}"),
        ),
        (
            "qti30/kennisnet-map-response-point-template.xml",
            format!("line 22: <qti-select-point-interaction response-identifier=\"RESPONSE\"> {graphical}; {SUPPORTED_LIST}"),
        ),
        (
            "qti30/kennisnet-select-point-processing.xml",
            format!("line 23: <qti-select-point-interaction response-identifier=\"RESPONSE\"> {graphical}; {SUPPORTED_LIST}"),
        ),
        (
            "qti30/kennisnet-complex-response-processing.xml",
            "line 101: <qti-choice-interaction response-identifier=\"RESPONSE21\"> is a second interaction after <qti-choice-interaction response-identifier=\"RESPONSE1\"> at line 77 (the item has 8); an Accredit item has exactly one interaction: make one item per interaction".into(),
        ),
        (
            // A text entry is one answer; a multiple cardinality would need several.
            "qti30/kennisnet-number-comparison-expressions.xml",
            "line 3: <qti-response-declaration identifier=\"RESPONSE\"> has cardinality=\"multiple\"; <qti-text-entry-interaction response-identifier=\"RESPONSE\"> expects cardinality=\"single\"".into(),
        ),
        (
            "qti30/qtisdk-empty_item.xml",
            "line 15: <itemBody> holds no interaction; expected one of: choice, order, match, associate, text entry, hottext, inline choice".into(),
        ),
    ];
    for (name, expected) in cases {
        let Some(errors) = fixture_refused(name) else {
            return;
        };
        assert_eq!(errors, [expected.as_str()], "{name}");
    }
}

#[test]
fn every_fixture_is_read_or_refused_with_located_messages() {
    let Some(root) = fixtures() else {
        return;
    };
    let mut count = 0;
    for dir in ["qti21", "qti30"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            if let Err(errors) = parse_item(&bytes, &options()) {
                for error in errors {
                    assert!(error.line > 0, "{}: {error}", path.display());
                }
            }
            count += 1;
        }
    }
    assert_eq!(count, 59);
}

// ---------------------------------------------------------------------------------------------
// Export

fn item(id: &str, stem: &str, body: ItemBody) -> Item {
    Item {
        id: id.into(),
        domain: "general".into(),
        status: ItemStatus::Draft,
        version: 1,
        stem: stem.into(),
        artifact: None,
        body,
        rationale: String::new(),
    }
}

fn code(kind: &str, language: &str, content: &str) -> Option<Artifact> {
    Some(Artifact {
        kind: kind.into(),
        language: language.into(),
        content: content.into(),
    })
}

/// Every item type, with the awkward characters and shapes each must survive.
fn all_kinds() -> Vec<Item> {
    let mut single = item(
        "sc-1",
        "Which header sets the cache lifetime?\nPick one & only one.",
        ItemBody::SingleChoice {
            choices: choices(&[
                ("a", "Cache-Control: max-age=<seconds>"),
                ("b", "Expires \"tomorrow\""),
                ("1", "ETag\nwith two lines"),
            ]),
            correct: "a".into(),
        },
    );
    single.rationale = "max-age wins over Expires.\nSee RFC 9111 §5.2.".into();
    let mut faulty = item(
        "2024.fl-7",
        "Which lines leak a secret?",
        ItemBody::FaultyLines {
            lines: vec![2, 4, 6],
        },
    );
    faulty.artifact = code(
        "log",
        "text",
        "\nGET /login 200\r\n  token=abc&x=<1>\n\n    \nuser ok\n",
    );
    let mut numeric = item(
        "num",
        "Latency budget in ms?",
        ItemBody::Numeric {
            answer: 99.9,
            tolerance: 0.05,
        },
    );
    numeric.artifact = code("config", "yaml", "timeout: 100ms\n");
    vec![
        single,
        item(
            "mr",
            "Which are symmetric ciphers?",
            ItemBody::MultipleResponse {
                choices: choices(&[("aes", "AES"), ("rsa", "RSA"), ("chacha", "ChaCha20")]),
                correct: vec!["chacha".into(), "aes".into()],
            },
        ),
        item(
            "tf",
            "TLS 1.0 is deprecated.",
            ItemBody::TrueFalse { correct: false },
        ),
        numeric,
        item(
            "st",
            "Name the principle.",
            ItemBody::ShortText {
                accepted: vec![
                    TextAnswer::Exact("least privilege".into()),
                    TextAnswer::Exact("PoLP".into()),
                    TextAnswer::Pattern("rotate * keys (daily)".into()),
                ],
            },
        ),
        item(
            "st-exact",
            "Default port of HTTPS?",
            ItemBody::ShortText {
                accepted: vec![TextAnswer::Exact("443".into())],
            },
        ),
        item(
            "st-pattern",
            "Describe the fix.",
            ItemBody::ShortText {
                accepted: vec![TextAnswer::Pattern("*rotate*".into())],
            },
        ),
        item(
            "ord",
            "Order the incident steps.",
            ItemBody::Ordering {
                choices: choices(&[
                    ("detect", "Detect"),
                    ("contain", "Contain"),
                    ("recover", "Recover"),
                ]),
            },
        ),
        item(
            "match",
            "Match ports to protocols.",
            ItemBody::Matching {
                prompts: choices(&[("p22", "22"), ("p443", "443")]),
                targets: choices(&[("ssh", "SSH"), ("https", "HTTPS"), ("ftp", "FTP")]),
                pairs: vec![
                    ("p443".into(), "https".into()),
                    ("p22".into(), "ssh".into()),
                ],
            },
        ),
        faulty,
    ]
}

#[test]
fn every_item_type_survives_export_and_import_unchanged() {
    for original in all_kinds() {
        let xml = export_item(&original);
        let back = parse_item(xml.as_bytes(), &options()).unwrap_or_else(|errors| {
            let list: Vec<_> = errors.iter().map(ToString::to_string).collect();
            panic!(
                "{} does not read back:\n{}\n{xml}",
                original.id,
                list.join("\n")
            )
        });
        assert_eq!(back, original, "{xml}");
    }
}

#[test]
fn an_artifact_round_trips_on_any_item_and_carries_its_kind_and_language() {
    for kind in ARTIFACT_KINDS {
        let mut original = item(
            "a1",
            "What is wrong here?",
            ItemBody::SingleChoice {
                choices: choices(&[("x", "x"), ("y", "y")]),
                correct: "y".into(),
            },
        );
        original.artifact = code(kind, "objective c", "\tline 1\n]]> & <tag/>\n");
        let xml = export_item(&original);
        assert!(
            xml.contains("<pre class=\"language-objective-c artifact-"),
            "{xml}"
        );
        let mut expected = original.clone();
        // A class token cannot hold a space.
        expected.artifact.as_mut().unwrap().language = "objective-c".into();
        assert_eq!(parse(&xml), expected);
    }
}

#[test]
fn the_export_is_qti21_with_the_standard_templates_and_a_hidden_rationale() {
    let kinds = all_kinds();
    let single = export_item(&kinds[0]);
    assert!(single.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<assessmentItem xmlns=\"http://www.imsglobal.org/xsd/imsqti_v2p1\""));
    assert!(single.contains(
        "<responseProcessing template=\"http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct\"/>"
    ));
    assert!(single.contains(
        "<outcomeDeclaration identifier=\"SCORE\" cardinality=\"single\" baseType=\"float\">"
    ));
    assert!(single.contains("title=\"Which header sets the cache lifetime?\""));
    assert!(
        single.contains("<simpleChoice identifier=\"_1\">ETag<br/>with two lines</simpleChoice>")
    );
    assert!(single.contains(
        "<modalFeedback outcomeIdentifier=\"FEEDBACK\" identifier=\"RATIONALE\" showHide=\"show\">"
    ));
    let numeric = export_item(&kinds[3]);
    assert!(
        numeric.contains("<equal toleranceMode=\"absolute\" tolerance=\"0.05 0.05\">"),
        "{numeric}"
    );
    assert!(
        numeric.contains("<pre class=\"language-yaml artifact-config\">timeout: 100ms\n</pre>")
    );
    let faulty = export_item(&kinds[9]);
    assert!(
        faulty.contains("<identifier=\"_2024.fl-7\"")
            || faulty.contains("identifier=\"_2024.fl-7\"")
    );
    assert!(faulty.contains(
        "<pre class=\"language-text artifact-log\">\n\n<hottext identifier=\"L2\">GET /login 200&#13;</hottext>\n<hottext identifier=\"L3\">  token=abc&amp;x=&lt;1&gt;</hottext>\n<hottext identifier=\"L4\"></hottext>\n    \n<hottext identifier=\"L6\">user ok</hottext>\n</pre>"
    ), "{faulty}");
    let ordering = export_item(&kinds[7]);
    let first_listed = ordering.find("identifier=\"contain\">").unwrap();
    assert!(
        first_listed < ordering.find("identifier=\"detect\">Detect").unwrap(),
        "the options are not listed in the answer's order: {ordering}"
    );
    // Well-formed, and every element in the QTI 2.1 namespace.
    for original in &kinds {
        let xml = export_item(original);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        for node in doc.descendants().filter(|n| n.is_element()) {
            assert_eq!(node.tag_name().namespace(), Some(QTI21_NAMESPACE), "{xml}");
        }
    }
}

#[test]
fn a_fixture_exported_and_read_again_is_the_same_item() {
    for name in [
        "qti21/choice.xml",
        "qti21/match.xml",
        "qti21/order.xml",
        "qti21/text_entry.xml",
        "qti21/hottext.xml",
        "qti30/kennisnet-validator-item001.xml",
    ] {
        let Some(item) = fixture_item(name) else {
            return;
        };
        assert_eq!(parse(&export_item(&item)), item, "{name}");
    }
}

#[test]
fn other_syntax_errors_say_where_and_what_to_write() {
    let cases: &[(&str, &str)] = &[
        (
            "<assessmentItem identifier=q1></assessmentItem>",
            "line 1, column 28: an attribute value is not in quotes; expected name=\"value\"",
        ),
        (
            "<assessmentItem>\n<p>a</p>\n</assessmentItem>\n<extra/>",
            "line 4, column 1: unexpected text or markup here; is there something after the end of the root element, or a stray <?",
        ),
        (
            "<assessmentItem>\n<!-- a -- b -->\n</assessmentItem>",
            "line 2, column 1: a comment contains --, which XML forbids",
        ),
        (
            "  <?xml version=\"1.0\"?>\n<assessmentItem/>",
            "line 1, column 3: the <?xml ...?> declaration must be the very first thing in the file",
        ),
        (
            "<a>\u{1}</a>",
            "line 1, column 4: the character U+0001 is not allowed in XML",
        ),
        (
            "<assessmentItem",
            "line 1: <assessmentItem> is never closed: the file ends (line 1) before its </assessmentItem>; the file may be cut short",
        ),
        (
            "<a title=\"x<y\"/>",
            "line 1, column 12: found < where \" was expected; a < inside an attribute value must be written &lt;",
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(refused_xml(xml), [*expected], "{xml}");
    }
}
