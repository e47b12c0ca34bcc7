//! Property: for random fact sets and random sequences of edits (set a
//! field, unset it, add or remove a fact, move `as_of`, edit a control),
//! the incremental evaluation equals an evaluation from scratch.

use aims_lang::facts::{Format, Mapping};
use aims_lang::Date;
use aims_lang::Engine;
use proptest::prelude::*;

fn policy(threshold: u32, window: u32) -> String {
    format!(
        r#"
enum Tier {{ minimal, limited, high }}
entity AISystem {{ id: Text key, tier: Tier, oversight: Bool, bias: Number?, tested: Date?, owner: Person? }}
entity Person {{ id: Text key, trained: Bool }}
scale Likelihood {{ rare: 1, likely: 4 }}
scale Impact {{ minor: 2, major: 4 }}
matrix Level = Likelihood * Impact {{ low: 1..4, medium: 5..8, high: 9..16 }}
appetite medium

control oversight severity major for s: AISystem where s.tier == high {{ require s.oversight }}
control fairness for s: AISystem where s.tier != minimal {{
  require s.bias < 0.{threshold:02} because "too unfair"
  require s.tested within {window} days
}}
control owned for s: AISystem where true {{ require s.owner is some and s.owner.trained }}
audit few_high {{ require count(s for s: AISystem where s.tier == high) <= 40 }}
risk unfair for s: AISystem where s.tier == high {{
  likelihood: if s.tested within {window} days then rare else likely
  impact: major
  treated by fairness, oversight
}}
objective fair "fair" {{
  measure avg(s.bias ?? 0.5 for s: AISystem where s.tier == high)
  target <= 0.1 by 2027-01-01
}}
exception legacy waives oversight for AISystem "s0" until 2026-12-31 approved by "CRO"
"#
    )
}

#[derive(Clone, Debug)]
struct System {
    tier: u8,
    oversight: bool,
    bias: Option<u8>,
    tested: Option<u8>,
    owner: Option<u8>,
}

fn system() -> impl Strategy<Value = System> {
    (0u8..3, any::<bool>(), proptest::option::of(0u8..30), proptest::option::of(0u8..12), proptest::option::of(0u8..3))
        .prop_map(|(tier, oversight, bias, tested, owner)| System { tier, oversight, bias, tested, owner })
}

fn json(i: usize, s: &System) -> String {
    let tier = ["minimal", "limited", "high"][s.tier as usize];
    let mut out = format!(r#"{{"id": "s{i}", "tier": "{tier}", "oversight": {}"#, s.oversight);
    if let Some(b) = s.bias {
        out.push_str(&format!(r#", "bias": {}"#, f64::from(b) / 100.0));
    }
    if let Some(t) = s.tested {
        out.push_str(&format!(r#", "tested": "2026-{:02}-15""#, t + 1));
    }
    if let Some(o) = s.owner {
        out.push_str(&format!(r#", "owner": "p{o}""#));
    }
    out.push('}');
    out
}

fn literal(i: usize, s: &System) -> String {
    let tier = ["minimal", "limited", "high"][s.tier as usize];
    let mut out = format!(r#"{{ id: "n{i}", tier: {tier}, oversight: {}"#, s.oversight);
    if let Some(b) = s.bias {
        out.push_str(&format!(", bias: {}", f64::from(b) / 100.0));
    }
    out.push_str(" }");
    out
}

#[derive(Clone, Debug)]
enum Edit {
    Oversight(usize, bool),
    Tier(usize, u8),
    Bias(usize, u8),
    UnsetBias(usize),
    Add(System),
    Remove(usize),
    AsOf(u16),
    Policy(u32, u32),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<bool>()).prop_map(|(i, b)| Edit::Oversight(i, b)),
        (any::<usize>(), 0u8..3).prop_map(|(i, t)| Edit::Tier(i, t)),
        (any::<usize>(), 0u8..30).prop_map(|(i, b)| Edit::Bias(i, b)),
        any::<usize>().prop_map(Edit::UnsetBias),
        system().prop_map(Edit::Add),
        any::<usize>().prop_map(Edit::Remove),
        (0u16..500).prop_map(Edit::AsOf),
        (5u32..20, prop_oneof![Just(30u32), Just(90), Just(180), Just(365)]).prop_map(|(t, w)| Edit::Policy(t, w)),
    ]
}

fn keys(engine: &Engine) -> Vec<String> {
    let program = engine.program();
    let id = program.entity_by_name("AISystem").expect("entity");
    let facts = engine.facts();
    (0..aims_lang::facts::Facts::len(&facts, id))
        .map(|r| aims_lang::facts::Facts::key_of(&facts, program, id, r).to_string())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn incremental_equals_scratch(systems in proptest::collection::vec(system(), 1..300), edits in proptest::collection::vec(edit(), 1..8)) {
        let people = r#"{"id": "p0", "trained": true}, {"id": "p1", "trained": false}, {"id": "p2", "trained": true}"#;
        let rows: Vec<String> = systems.iter().enumerate().map(|(i, s)| json(i, s)).collect();
        let facts = format!(r#"{{"AISystem": [{}], "Person": [{people}]}}"#, rows.join(","));
        let mut engine = Engine::from_texts("p.aims", &policy(10, 180), &[("f.json", Format::Json, Mapping::default(), &facts)])
            .unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
        let start = Date::parse("2026-06-01").expect("date");
        engine.evaluate(start);
        let mut added = 0;
        for edit in edits {
            let keys = keys(&engine);
            let pick = |i: usize| keys.get(i % keys.len().max(1)).cloned();
            let result = match &edit {
                Edit::Oversight(i, b) => pick(*i).map(|k| engine.set_field("AISystem", &k, "oversight", &b.to_string())),
                Edit::Tier(i, t) => pick(*i).map(|k| engine.set_field("AISystem", &k, "tier", ["minimal", "limited", "high"][*t as usize])),
                Edit::Bias(i, b) => pick(*i).map(|k| engine.set_field("AISystem", &k, "bias", &format!("{}", f64::from(*b) / 100.0))),
                Edit::UnsetBias(i) => pick(*i).map(|k| engine.unset_field("AISystem", &k, "bias")),
                Edit::Add(s) => { added += 1; Some(engine.add_fact("AISystem", &literal(added, s)).map(|_| ())) }
                Edit::Remove(i) => pick(*i).map(|k| engine.remove_fact("AISystem", &k)),
                Edit::AsOf(days) => { engine.set_as_of(start.add_days(i64::from(*days))); None }
                Edit::Policy(t, w) => {
                    let file = engine.policy_files()[0];
                    Some(engine.set_policy_text(file, &policy(*t, *w)).map_err(aims_lang::engine::EditError::Invalid))
                }
            };
            if let Some(result) = result {
                prop_assert!(result.is_ok(), "{edit:?}: {result:?}");
            }
            let incremental = engine.evaluation();
            let scratch = engine.fresh_copy().evaluation();
            prop_assert_eq!(&*incremental, &*scratch, "after {:?}", edit);
        }
    }
}
