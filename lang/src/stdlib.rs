//! The standard library: `.aims` modules shipped inside the engine.
//!
//! `use iso42001.annex_a` loads one module; `use iso42001` loads every
//! module under `iso42001`. The catalogues (`iso42001`, `nist_ai_rmf`,
//! `eu_ai_act`) declare requirements only; the `aims.*` modules declare the
//! standard records of a management system and the rules over them, which
//! a project extends (`extend`) and overrides (redeclaring a name). The texts are compiled into the binary, so a
//! project never depends on where the engine is installed.

/// Every stdlib module: its path and its text.
pub const MODULES: &[(&str, &str)] = &[
    ("iso42001.clauses", include_str!("../../stdlib/iso42001/clauses.aims")),
    ("iso42001.annex_a", include_str!("../../stdlib/iso42001/annex_a.aims")),
    ("nist_ai_rmf.subcategories", include_str!("../../stdlib/nist_ai_rmf/subcategories.aims")),
    ("nist_ai_rmf.crosswalk", include_str!("../../stdlib/nist_ai_rmf/crosswalk.aims")),
    ("eu_ai_act.articles", include_str!("../../stdlib/eu_ai_act/articles.aims")),
    ("eu_ai_act.crosswalk", include_str!("../../stdlib/eu_ai_act/crosswalk.aims")),
    ("aims.documented", include_str!("../../stdlib/aims/documented.aims")),
    ("aims.records", include_str!("../../stdlib/aims/records.aims")),
    ("aims.risk", include_str!("../../stdlib/aims/risk.aims")),
    ("aims.audits", include_str!("../../stdlib/aims/audits.aims")),
    ("aims.controls", include_str!("../../stdlib/aims/controls.aims")),
    ("aims.certification", include_str!("../../stdlib/aims/certification.aims")),
    ("aims.eu_ai_act", include_str!("../../stdlib/aims/eu_ai_act.aims")),
    ("monitoring.readings", include_str!("../../stdlib/monitoring/readings.aims")),
];

/// Whether `use PATH` includes the module `name`: the module of that name,
/// or every module under it as a prefix (`use iso42001` takes
/// `iso42001.clauses` and `iso42001.annex_a`).
pub fn use_includes(path: &str, name: &str) -> bool {
    name == path || name.strip_prefix(path).is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
fn resolve(path: &str) -> Vec<(&'static str, &'static str)> {
    MODULES.iter().copied().filter(|(name, _)| use_includes(path, name)).collect()
}

/// The names a `use` may give, for suggestions.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = MODULES.iter().map(|(n, _)| n.to_string()).collect();
    for (n, _) in MODULES {
        if let Some((head, _)) = n.split_once('.') {
            names.push(head.to_string());
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_parses_cleanly() {
        for (name, text) in MODULES {
            let parse = crate::syntax::parse(text);
            assert!(parse.errors.is_empty(), "{name}: {:?}", parse.errors);
        }
    }

    /// What each of the stdlib's rules says it implements and cites, as an
    /// auditor reads it.
    fn rules_of_aims() -> Vec<(String, Vec<String>, Vec<String>)> {
        let engine = crate::Engine::from_texts("p.aims", "use aims\nuse iso42001\n", &[]).expect("the stdlib loads");
        engine.program().rules.iter().map(|r| (r.decl.name.clone(), r.implements.clone(), r.clauses.clone())).collect()
    }

    #[test]
    fn annex_a_controls_are_implemented_by_what_they_ask_for() {
        let rules = rules_of_aims();
        let implementing = |id: &str| -> Vec<&str> {
            rules.iter().filter(|(_, i, _)| i.iter().any(|x| x == id)).map(|(n, _, _)| n.as_str()).collect()
        };
        // A.8.4 is a plan for informing users of incidents: it applies with no incident.
        assert!(implementing("A.8.4").contains(&"incident_communication_planned"), "{:?}", implementing("A.8.4"));
        // A.9.2 is processes for responsible use, not human oversight.
        assert_eq!(implementing("A.9.2"), ["responsible_use_process"]);
        let oversight = rules.iter().find(|(n, _, _)| n == "human_oversight").expect("human_oversight");
        assert!(oversight.1.is_empty(), "{oversight:?}");
    }

    #[test]
    fn the_certification_bodys_audits_cite_no_clause_of_the_standard() {
        let rules = rules_of_aims();
        for name in [
            "stage2_after_stage1",
            "surveillance_held",
            "surveillance_booked",
            "recertified_before_expiry",
            "recertification_booked",
        ] {
            let (_, implements, clauses) = rules.iter().find(|(n, _, _)| n == name).expect(name);
            assert!(implements.is_empty() && clauses.is_empty(), "{name}: {implements:?} {clauses:?}");
        }
    }

    #[test]
    fn a_8_3_is_reporting_to_the_organisation() {
        let engine = crate::Engine::from_texts("p.aims", "use aims\nuse iso42001\n", &[]).expect("loads");
        let title = &engine.program().requirement("A.8.3").expect("A.8.3").title;
        assert!(title.contains("interested parties can report adverse impacts"), "{title}");
    }

    /// The severity of every rule of the stdlib, with the sources of its `require`s.
    fn graded_rules() -> Vec<(String, crate::syntax::ast::Severity, bool, Vec<String>)> {
        let engine = crate::Engine::from_texts("p.aims", "use aims\nuse iso42001\n", &[]).expect("the stdlib loads");
        engine
            .program()
            .rules
            .iter()
            .map(|r| {
                let sources = r.requirements().iter().map(|q| q.source.clone()).collect();
                (r.decl.name.clone(), r.severity, r.subject.is_none(), sources)
            })
            .collect()
    }

    /// docs/stdlib.md, "How rules are graded": a record or process missing
    /// altogether is major; a currency rule (the record is recent, or there is
    /// none at all and the existence rule already says so) is minor.
    #[test]
    fn one_grading_rule_for_all() {
        use crate::syntax::ast::Severity;
        let rules = graded_rules();
        let mut existence = 0;
        for (name, severity, organisation, sources) in &rules {
            let missing_altogether = sources.iter().all(|s| s.starts_with("documented(") || s.starts_with("exists "));
            if *organisation && missing_altogether {
                existence += 1;
                assert_eq!(*severity, Severity::Major, "{name}: {sources:?}");
            }
            if sources.iter().any(|s| s.contains(" within ") && s.contains(") or not (exists ")) {
                assert_eq!(*severity, Severity::Minor, "{name}: {sources:?}");
            }
        }
        assert!(existence >= 15, "{existence}");
        let severity = |n: &str| rules.iter().find(|r| r.0 == n).map(|r| r.1);
        // A review one day late is a lapse; an action found ineffective means
        // corrective action does not work.
        assert_eq!(severity("management_review_current"), Some(Severity::Minor));
        assert_eq!(severity("management_review_held"), Some(Severity::Major));
        assert_eq!(severity("corrective_action_effective"), Some(Severity::Major));
        assert_eq!(severity("corrective_action_checked"), Some(Severity::Minor));
    }

    /// aims.eu_ai_act: every rule cites the article (and paragraph) it
    /// checks, in `implements` and in each `because`, and is graded by the one
    /// rule: a duty of the Act not met at all is major; only the rules about
    /// how a record is kept (log retention, the internal tier, the recorded
    /// role) are minor.
    #[test]
    fn eu_ai_act_rules_cite_their_article_and_follow_the_grading_rule() {
        use crate::syntax::ast::Severity;
        let engine = crate::Engine::from_texts("p.aims", "use aims\n", &[]).expect("the stdlib loads");
        let rules: Vec<_> = engine.program().rules.iter().filter(|r| r.decl.name.starts_with("aia_")).collect();
        assert!(rules.len() >= 19, "{}", rules.len());
        let record_keeping = ["aia_tier_recorded", "aia_logs_kept", "aia_role_recorded"];
        for r in &rules {
            let name = r.decl.name.as_str();
            assert!(!r.implements.is_empty() && r.implements.iter().all(|i| i.starts_with("AIA.")), "{name}");
            for q in r.requirements() {
                let because = q.because.as_deref().unwrap_or_default();
                assert!(because.starts_with("Art. "), "{name}: {because}");
            }
            let expected = if record_keeping.contains(&name) { Severity::Minor } else { Severity::Major };
            assert_eq!(r.severity, expected, "{name}");
        }
        for id in ["AIA.5.1.c", "AIA.5.1.f", "AIA.III.1", "AIA.43", "AIA.47", "AIA.48", "AIA.49", "AIA.73"] {
            assert!(rules.iter().any(|r| r.implements.iter().any(|i| i == id)), "{id}");
        }
    }

    #[test]
    fn every_clause_and_every_documented_record_has_a_rule() {
        let engine = crate::Engine::from_texts("p.aims", "use aims\nuse iso42001\n", &[]).expect("loads");
        let program = engine.program();
        let cited = |id: &str| program.rules.iter().any(|r| r.clauses.iter().chain(&r.implements).any(|c| c == id));
        let leaves: Vec<&str> = program
            .requirements
            .iter()
            .filter(|r| r.id.starts_with(|c: char| c.is_ascii_digit()) && r.id.contains('.'))
            .filter(|r| !program.requirements.iter().any(|c| c.parent.as_deref() == Some(r.id.as_str())))
            .map(|r| r.id.as_str())
            .collect();
        assert!(leaves.len() >= 28, "{leaves:?}");
        for must in ["4.4", "5.1", "6.3", "7.1", "7.3", "7.4", "7.5.1", "7.5.2", "10.1"] {
            assert!(leaves.contains(&must), "{must}");
        }
        let uncited: Vec<&&str> = leaves.iter().filter(|id| !cited(id)).collect();
        assert!(uncited.is_empty(), "clauses no rule cites: {uncited:?}");
        let documents: Vec<&str> =
            program.requirements.iter().filter(|r| r.id.starts_with("DOC.")).map(|r| r.id.as_str()).collect();
        assert!(documents.len() >= 20, "{documents:?}");
        let unimplemented: Vec<&&str> = documents.iter().filter(|id| !cited(id)).collect();
        assert!(unimplemented.is_empty(), "documented information no rule looks for: {unimplemented:?}");
    }

    #[test]
    fn a_prefix_loads_every_module_under_it() {
        assert_eq!(resolve("iso42001").len(), 2);
        assert_eq!(resolve("iso42001.annex_a").len(), 1);
        assert!(resolve("iso4200").is_empty());
    }
}
