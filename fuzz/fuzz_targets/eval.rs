//! The evaluator on well-typed generated programs and facts: evaluation
//! never panics, the compiled evaluation equals the reference
//! interpreter's, and after an edit the incremental evaluation equals one
//! from scratch.
#![no_main]

use aims_lang::facts::{Format, Mapping};
use aims_lang::Date;
use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"
enum Tier { low, high }
record Evidence { kind: Text, date: Date? }
entity System {
  id: Text key
  tier: Tier = low
  score: Number?
  reviewed: Date?
  evidence: [Evidence] = []
  tags: [Text] = []
}
"#;

/// A Boolean expression over `s: System`, at most `depth` deep; with
/// `definite`, one that is never unknown (an applicability filter must be).
fn boolean(u: &mut Unstructured, depth: u32, definite: bool) -> arbitrary::Result<String> {
    let leaf = depth == 0 || u.ratio(1, 3)?;
    if leaf {
        let mut pick = u.int_in_range(0..=8)?;
        if definite && (pick == 4 || pick == 8) {
            pick = 1;
        }
        return Ok(match pick {
            0 => format!("s.tier == {}", if bool::arbitrary(u)? { "low" } else { "high" }),
            1 => "s.score is some".into(),
            2 => format!("(s.score ?? {}) > {}", number(u)?, number(u)?),
            3 => format!("exists e in s.evidence where e.kind == \"k{}\"", u.int_in_range(0..=3)?),
            4 => format!("s.reviewed within {} days", u.int_in_range(0..=400)?),
            5 => format!("count(x for x: System where x.tier == high) > {}", u.int_in_range(0..=5)?),
            6 => format!("all t in s.tags: t != \"t{}\"", u.int_in_range(0..=3)?),
            // An element's field that may be absent: "`e.date` is not recorded".
            8 => format!("exists e in s.evidence where e.date within {} days", u.int_in_range(0..=400)?),
            _ => if bool::arbitrary(u)? { "true".into() } else { "false".into() },
        });
    }
    Ok(match u.int_in_range(0..=3)? {
        0 => format!("not ({})", boolean(u, depth - 1, definite)?),
        1 => format!("({}) and ({})", boolean(u, depth - 1, definite)?, boolean(u, depth - 1, definite)?),
        2 => format!("({}) or ({})", boolean(u, depth - 1, definite)?, boolean(u, depth - 1, definite)?),
        _ => format!(
            "if {} then {} else {}",
            boolean(u, depth - 1, definite)?,
            boolean(u, depth - 1, definite)?,
            boolean(u, depth - 1, definite)?
        ),
    })
}

fn number(u: &mut Unstructured) -> arbitrary::Result<String> {
    Ok(format!("{}.{}", u.int_in_range(0..=9)?, u.int_in_range(0..=99)?))
}

fn program(u: &mut Unstructured) -> arbitrary::Result<String> {
    let mut text = SCHEMA.to_string();
    for i in 0..u.int_in_range(1..=4)? {
        text.push_str(&format!(
            "control c{i} for s: System where {} {{ require {} because \"r{i}\" }}\n",
            boolean(u, 2, true)?,
            boolean(u, 3, false)?
        ));
    }
    if bool::arbitrary(u)? {
        text.push_str(&format!(
            "objective o {{ measure avg(x.score ?? {} for x: System) target >= {} by 2027-01-01 }}\n",
            number(u)?,
            number(u)?
        ));
    }
    Ok(text)
}

fn facts(u: &mut Unstructured) -> arbitrary::Result<String> {
    let mut rows = Vec::new();
    // Past 64 rows: the compiled evaluation works in blocks of 64.
    for i in 0..u.int_in_range(0..=80)? {
        let mut fields = vec![format!("\"id\": \"s{i}\"")];
        if bool::arbitrary(u)? {
            fields.push(format!("\"tier\": \"{}\"", if bool::arbitrary(u)? { "low" } else { "high" }));
        }
        if bool::arbitrary(u)? {
            fields.push(format!("\"score\": {}", number(u)?));
        }
        if bool::arbitrary(u)? {
            fields.push(format!("\"reviewed\": \"2026-{:02}-{:02}\"", u.int_in_range(1..=12)?, u.int_in_range(1..=28)?));
        }
        let mut evidence: Vec<String> = Vec::new();
        for k in 0..u.int_in_range(0..=2)? {
            evidence.push(if bool::arbitrary(u)? {
                format!("{{\"kind\": \"k{k}\", \"date\": \"2026-{:02}-01\"}}", u.int_in_range(1..=12)?)
            } else {
                format!("{{\"kind\": \"k{k}\"}}")
            });
        }
        fields.push(format!("\"evidence\": [{}]", evidence.join(",")));
        rows.push(format!("{{{}}}", fields.join(", ")));
    }
    Ok(format!("{{\"System\": [{}]}}", rows.join(",")))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(policy), Ok(facts)) = (program(&mut u), facts(&mut u)) else { return };
    let as_of = Date::parse("2026-06-01").expect("date");
    let mut engine = match aims_lang::Engine::from_texts(
        "fuzz.aims",
        &policy,
        &[("facts.json", Format::Json, Mapping::default(), &facts)],
    ) {
        Ok(engine) => engine,
        Err(f) => panic!("a generated program must check: {:?}\n{policy}\n{facts}", f.diagnostics),
    };
    let compiled = engine.evaluate(as_of);
    let mut reference = engine.fresh_copy();
    reference.set_evaluator(aims_lang::eval::Evaluator::Interpreted);
    assert_eq!(*compiled, *reference.evaluate(as_of), "compiled evaluation differs from the interpreter\n{policy}\n{facts}");
    let key = format!("s{}", u.int_in_range(0..=11).unwrap_or(0));
    let value = if u.ratio(1, 2).unwrap_or(false) { "high" } else { "low" };
    if engine.set_field("System", &key, "tier", value).is_ok() {
        let incremental = engine.evaluate(as_of);
        let scratch = engine.fresh_copy().evaluate(as_of);
        assert_eq!(*incremental, *scratch, "incremental evaluation differs from scratch\n{policy}\n{facts}");
    }
});
