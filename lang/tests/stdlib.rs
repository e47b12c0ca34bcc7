//! The catalogues of the standard library: their counts, their shape, and
//! that every crosswalk target exists.

use aims_lang::ir::Program;
use aims_lang::Engine;

fn program(uses: &str) -> Program {
    let text = format!("{uses}\naudit always {{ require true }}\n");
    match Engine::from_texts("catalogue.aims", &text, &[]) {
        Ok(engine) => engine.program().clone(),
        Err(e) => panic!("the stdlib does not compile: {e:?}"),
    }
}

fn children<'p>(p: &'p Program, parent: &str) -> Vec<&'p str> {
    p.requirements.iter().filter(|r| r.parent.as_deref() == Some(parent)).map(|r| r.id.as_str()).collect()
}

/// Annex A controls: the grandchildren of the areas (the children are objectives).
fn annex_controls(p: &Program) -> Vec<&str> {
    let areas = p.requirements.iter().filter(|r| r.parent.is_none() && r.id.starts_with("A."));
    areas.flat_map(|a| children(p, &a.id)).flat_map(|o| children(p, o)).collect()
}

#[test]
fn iso42001_has_every_clause_and_sub_clause() {
    let p = program("use iso42001");
    let clauses: Vec<&str> = p.requirements.iter().map(|r| r.id.as_str()).filter(|id| !id.starts_with("A.")).collect();
    assert_eq!(clauses.len(), 43, "{clauses:?}");
    for top in ["4", "5", "6", "7", "8", "9", "10"] {
        assert!(clauses.contains(&top));
    }
    assert_eq!(children(&p, "6.1"), ["6.1.1", "6.1.2", "6.1.3", "6.1.4"]);
    assert_eq!(children(&p, "7.5"), ["7.5.1", "7.5.2", "7.5.3"]);
    assert_eq!(children(&p, "9.2"), ["9.2.1", "9.2.2"]);
    assert_eq!(children(&p, "9.3"), ["9.3.1", "9.3.2", "9.3.3"]);
    assert_eq!(children(&p, "10"), ["10.1", "10.2"]);
}

#[test]
fn annex_a_has_38_controls_under_10_objectives_in_9_areas() {
    let p = program("use iso42001.annex_a");
    let areas: Vec<&str> = p.requirements.iter().filter(|r| r.parent.is_none()).map(|r| r.id.as_str()).collect();
    assert_eq!(areas, ["A.2", "A.3", "A.4", "A.5", "A.6", "A.7", "A.8", "A.9", "A.10"]);
    let objectives: Vec<&str> = areas.iter().flat_map(|a| children(&p, a)).collect();
    assert_eq!(objectives.len(), 10, "{objectives:?}");
    let controls = annex_controls(&p);
    assert_eq!(controls.len(), 38, "{controls:?}");
    assert_eq!(p.requirements.len(), 9 + 10 + 38);
    assert!(controls.iter().all(|c| children(&p, c).is_empty()), "a control has children");
}

#[test]
fn nist_ai_rmf_has_72_subcategories_in_4_functions() {
    let p = program("use nist_ai_rmf.subcategories");
    let functions: Vec<&str> = p.requirements.iter().filter(|r| r.parent.is_none()).map(|r| r.id.as_str()).collect();
    assert_eq!(functions, ["GOVERN", "MAP", "MEASURE", "MANAGE"]);
    let mut categories = 0;
    let mut per_function = Vec::new();
    for f in &functions {
        let cats = children(&p, f);
        categories += cats.len();
        per_function.push(cats.iter().map(|c| children(&p, c).len()).sum::<usize>());
    }
    assert_eq!(categories, 19);
    assert_eq!(per_function, [19, 18, 22, 13]);
}

#[test]
fn eu_ai_act_has_the_high_risk_obligations_prohibitions_and_annex_iii_areas() {
    let p = program("use eu_ai_act.articles");
    for article in ["9", "10", "11", "12", "13", "14", "15", "17", "26", "27", "49", "50", "72", "73", "6.3"] {
        assert!(p.requirement(&format!("AIA.{article}")).is_some(), "AIA.{article}");
    }
    assert_eq!(children(&p, "AIA.III").len(), 8);
    let prohibited: Vec<&str> =
        p.requirements.iter().map(|r| r.id.as_str()).filter(|id| id.starts_with("AIA.5.1.")).collect();
    assert_eq!(prohibited.len(), 8);
}

#[test]
fn every_crosswalk_target_exists_and_every_annex_a_control_maps_to_nist() {
    let p = program("use nist_ai_rmf\nuse eu_ai_act");
    assert!(!p.maps.is_empty());
    for m in &p.maps {
        assert!(p.requirement(&m.from).is_some(), "{}", m.from);
        for t in &m.to {
            assert!(p.requirement(t).is_some(), "{} -> {t}", m.from);
        }
    }
    let annex = program("use iso42001.annex_a");
    let controls = annex_controls(&annex);
    assert_eq!(controls.len(), 38);
    for c in controls {
        let to_nist = p.maps.iter().any(|m| m.from == c && m.to.iter().any(|t| !t.starts_with("AIA.")));
        assert!(to_nist, "{c} has no NIST AI RMF mapping");
    }
}
