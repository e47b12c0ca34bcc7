//! Filling measured fields: the engine hands every measure's plan to a
//! [`MeasureRunner`] and writes each fact's value (or why it has none)
//! into the field the measure declares, chunk by chunk, touching only the
//! chunks whose values changed. A second call with the same date, the same
//! plans and unchanged log files runs nothing.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use salsa::Setter;

use super::EditError;
use super::Engine;
use crate::db;
use crate::diag::{Code, Diagnostic};
use crate::facts::{Facts, Row};
use crate::ir::{MeasureDef, MeasureTarget, Program, Ty, Unknown, Value};
use crate::measure::{
    ColumnKind, LogColumn, LogRecord, MeasureOutput, MeasurePlan, MeasureRequest, MeasureRunner, MeasuredValue,
    MeasuredWindow, Measurement, MetricResult, Monitoring,
};
use crate::time::Date;
use crate::whatif::WhatIf;

/// The engine's measuring: the logs, the runner, and what the measured
/// fields were last computed from.
#[derive(Clone, Debug, Default)]
pub(super) struct MeasureState {
    /// The logs measures read, why some name no files (reported when
    /// measuring), and the cluster that reads them.
    monitoring: Monitoring,
    /// Every log's fingerprint, hashed together once (the logs do not
    /// change under an engine: `:reload` makes a new one).
    logs_fingerprint: u64,
    /// A hash of what the measured fields were last computed from (date,
    /// plans, files); `None`: not computed, or the facts were reloaded.
    pub(super) stamp: Option<u64>,
    /// How many facts got a value then.
    values: usize,
    /// What computes measures when the date is set (none: measured fields
    /// stay unknown until [`Engine::measure`]).
    pub(super) runner: Option<crate::project::RunnerHandle>,
    /// Why the last measuring failed (empty when it did not).
    errors: Vec<Diagnostic>,
    /// Where the measured values came from (empty until measured, and
    /// after a measuring that failed).
    pub(super) evidence: Arc<[Measurement]>,
}

impl MeasureState {
    pub(super) fn new(monitoring: Monitoring) -> MeasureState {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        monitoring.logs.iter().for_each(|l| l.fingerprint().hash(&mut h));
        MeasureState { logs_fingerprint: h.finish(), monitoring, ..MeasureState::default() }
    }
}

/// What [`Engine::measure`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measured {
    /// Whether the runner ran (false: nothing changed since the last call).
    pub ran: bool,
    /// How many measures the program declares.
    pub measures: usize,
    /// How many facts got a value (the others have unknown evidence).
    pub values: usize,
}

impl Engine {
    /// Computes every measure as of `as_of` with `runner` and writes the
    /// values into the measured fields. A fact with no row in its measure's
    /// window gets unknown evidence that says so, never a value. Nothing is
    /// written when the runner fails.
    pub fn measure(&mut self, runner: &dyn MeasureRunner, as_of: Date) -> Result<Measured, Vec<Diagnostic>> {
        let program = self.program();
        if program.measures.is_empty() {
            return Ok(Measured::default());
        }
        // The stamp first: setting the same date again with the same plans
        // and logs copies nothing and runs nothing. (The stamp is only kept
        // after a run that passed the checks below.)
        let stamp = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (as_of, self.measures.logs_fingerprint).hash(&mut h);
            program.measures.iter().filter_map(|m| m.plan.as_ref()).for_each(|p| p.hash(&mut h));
            h.finish()
        };
        let count = program.measures.iter().filter(|m| m.plan.is_some()).count();
        if self.measures.stamp == Some(stamp) {
            return Ok(Measured { ran: false, measures: count, values: self.measures.values });
        }
        let defs: Vec<MeasureDef> = program.measures.iter().filter(|m| m.plan.is_some()).cloned().collect();
        let plans: Vec<MeasurePlan> = defs.iter().filter_map(|m| m.plan.clone()).collect();
        let records = log_records(program, &plans);
        // A `[[logs]]` table that names no files (a missing folder, a link
        // out of the project) is reported now, when it would be read.
        if !plans.is_empty() && !self.measures.monitoring.problems.is_empty() {
            return Err(self.measures.monitoring.problems.clone());
        }
        let mut problems = Vec::new();
        for plan in &plans {
            if !self.measures.monitoring.logs.iter().any(|l| l.record == plan.record) {
                let def = defs.iter().find(|d| d.decl.name == plan.measure);
                let mut d = Diagnostic::error(
                    Code::LogSchema,
                    format!("measure `{}` reads `{}` rows, and no log holds them", plan.measure, plan.record),
                )
                .help(format!(
                    "name the files in aims.toml: `[[logs]]` with `record = \"{}\"` and `path = \"logs/…\"`",
                    plan.record
                ));
                if let Some(def) = def {
                    d = d.at_file(def.decl.name_span.file, def.decl.name_span.span, "this measure");
                }
                problems.push(d);
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut measured = Measured { ran: true, measures: count, values: 0 };
        let request = MeasureRequest {
            as_of,
            sources: &self.measures.monitoring.logs,
            plans: &plans,
            records: &records,
            cluster: self.measures.monitoring.cluster.as_ref(),
        };
        self.measures.evidence = Arc::from([]);
        let outputs = runner.run(&request)?;
        for (def, (plan, output)) in defs.iter().zip(plans.iter().zip(&outputs)) {
            measured.values += self.fill(def, plan, output, as_of);
        }
        let evidence: Arc<[Measurement]> = {
            let program = self.program();
            plans
                .iter()
                .zip(&outputs)
                .map(|(plan, output)| self.measures.monitoring.measurement(program, plan, output, as_of))
                .collect()
        };
        self.measures.evidence = evidence;
        self.measures.stamp = Some(stamp);
        self.measures.values = measured.values;
        Ok(measured)
    }

    /// Where each measure's values came from: the log, its files, the
    /// window and each fact's rows (empty before measuring, and after a
    /// measuring that failed).
    pub fn measurements(&self) -> &[Measurement] {
        &self.measures.evidence
    }

    /// What if a measure of the organisation had another value (`Some`,
    /// written as a constant of its type: `120`, `4.5%`) or none (`None`:
    /// unmeasured)? Answered with every outcome, risk level and objective
    /// status it changes; the value stays set until the next measuring.
    pub fn what_if_measure(&mut self, name: &str, value: Option<&str>) -> Result<WhatIf, EditError> {
        self.ws.spent(&self.db).reset();
        let before = crate::whatif::view(&self.db, self.ws, crate::whatif::Edited::Everything);
        self.set_measure(name, value)?;
        let after = crate::whatif::view(&self.db, self.ws, crate::whatif::Edited::Everything);
        Ok(crate::whatif::diff(self.program(), self.as_of(), &before, &after))
    }

    /// Gives a measure of the organisation a value (`Some`, a constant of
    /// its type) or none (`None`: unmeasured), until the next measuring.
    pub fn set_measure(&mut self, name: &str, value: Option<&str>) -> Result<(), EditError> {
        let program = self.program();
        let (def, ty) = program
            .measures
            .iter()
            .find_map(|m| match &m.target {
                MeasureTarget::Organisation { ty } if m.decl.name == name => Some((m, ty)),
                _ => None,
            })
            .ok_or_else(|| EditError::UnknownMeasure(name.to_string()))?;
        let value = match value {
            Some(text) => crate::sema::constant(program, ty, text).map_err(EditError::Invalid)?.value,
            None => unmeasured("unset by a what-if".into()),
        };
        let def = def.clone();
        self.write_organisation(&def, value);
        Ok(())
    }

    /// Every measured value as rules read it: the measure's name, the
    /// fact's key ([`crate::measure::ORGANISATION`] for a measure of the
    /// organisation) and the value, in declaration then fact order.
    pub fn measured_values(&self) -> Vec<(String, String, Value)> {
        let program = self.program();
        let facts = self.facts();
        let mut out = Vec::new();
        for (i, def) in program.measures.iter().enumerate() {
            match def.field() {
                Some((entity, field)) => {
                    for row in 0..facts.len(entity) {
                        let Some(values) = facts.values(entity, row) else { continue };
                        let key = facts.key_of(program, entity, row).to_string();
                        let value = values.get(field as usize).cloned().unwrap_or(Value::Absent);
                        out.push((def.decl.name.clone(), key, value));
                    }
                }
                None => {
                    let value = crate::measure::organisation_value(self.ws.measured(&self.db), i);
                    out.push((def.decl.name.clone(), crate::measure::ORGANISATION.to_string(), value));
                }
            }
        }
        out
    }

    /// Why the last measuring (when the date was set) failed; empty when
    /// it did not, or when no runner is set.
    pub fn measure_errors(&self) -> &[Diagnostic] {
        &self.measures.errors
    }

    /// Measures with the engine's runner, if it has one and the measured
    /// fields are stale. On failure every measured field is unknown
    /// evidence that says so (never a stale value), and the errors are kept.
    pub(super) fn remeasure(&mut self, as_of: Date) {
        let Some(runner) = self.measures.runner.clone() else { return };
        match self.measure(&*runner.0, as_of) {
            Ok(_) => self.measures.errors.clear(),
            Err(errors) => {
                let why = errors.first().map_or_else(String::new, |d| d.message.clone());
                let defs: Vec<MeasureDef> =
                    self.program().measures.iter().filter(|m| m.plan.is_some()).cloned().collect();
                for def in &defs {
                    self.write_field(def, &|_| unmeasured(format!("the log could not be read: {why}")));
                }
                self.measures.stamp = None;
                self.measures.errors = errors;
            }
        }
    }

    /// Writes one measure's values; returns how many facts got one.
    fn fill(&mut self, def: &MeasureDef, plan: &MeasurePlan, output: &MeasureOutput, as_of: Date) -> usize {
        let by_key: HashMap<&str, &crate::measure::MeasureValue> =
            output.values.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let place = match (&plan.window, self.measures.monitoring.logs.iter().find(|l| l.record == plan.record)) {
            (Some(w), Some(log)) => {
                let (first, last) = w.days(as_of);
                format!("from {first} to {last} in {}", log.location)
            }
            (None, Some(log)) => format!("in {}", log.location),
            _ => String::new(),
        };
        let result = plan.result();
        // "of `credit-scoring-v3`", or nothing for the organisation.
        let of = |key: &str| if plan.key_column.is_some() { format!(" of `{key}`") } else { String::new() };
        self.write_field(def, &|key| match by_key.get(key) {
            Some(v) => match &v.value {
                Ok(n) => typed(result, *n),
                Err(why) => unmeasured(format!("{why} ({} rows{} {place})", v.rows, of(key))),
            },
            None => unmeasured(format!("no `{}` row{} {place}", plan.record, of(key))),
        })
    }

    /// Sets a measure's field of every fact to `value_of(key)`, replacing
    /// only the chunks where a value changed; returns how many facts have
    /// a known value.
    fn write_field(&mut self, def: &MeasureDef, value_of: &dyn Fn(&str) -> Value) -> usize {
        let Some((entity, field)) = def.field() else {
            return self.write_organisation(def, value_of(crate::measure::ORGANISATION));
        };
        let key_field = self.program().entity(entity).key;
        let field = field as usize;
        let table = self.ws.tables(&self.db)[entity.index()];
        let chunks = table.chunks(&self.db).clone();
        let mut known = 0;
        for chunk in chunks {
            let start = chunk.start(&self.db);
            let rows = chunk.rows(&self.db);
            let mut changed: Option<Vec<Row>> = None;
            for (i, row) in rows.iter().enumerate() {
                let key = crate::facts::key_text(key_field, row, start + i as u32);
                let value = value_of(&key);
                known += usize::from(!matches!(value, Value::Unknown(_)));
                if row.values.get(field) == Some(&value) {
                    continue;
                }
                let rows = changed.get_or_insert_with(|| rows.to_vec());
                let mut values = rows[i].values.to_vec();
                if let Some(slot) = values.get_mut(field) {
                    *slot = value;
                }
                rows[i].values = Arc::from(values);
            }
            if let Some(rows) = changed {
                db::set_chunk_rows(&mut self.db, chunk, Arc::from(rows));
            }
        }
        known
    }

    /// Sets the value of a measure of the organisation, if it changed (every
    /// evaluation reads these values); returns 1 when it is known.
    fn write_organisation(&mut self, def: &MeasureDef, value: Value) -> usize {
        let known = usize::from(!matches!(value, Value::Unknown(_)));
        let program = self.program();
        let Some(id) = program.measures.iter().position(|m| m.decl.name_span == def.decl.name_span) else {
            return 0;
        };
        let count = program.measures.len();
        let current = self.ws.measured(&self.db);
        if current.get(id) == Some(&value) {
            return known;
        }
        let mut values: Vec<Value> = (0..count).map(|i| crate::measure::organisation_value(current, i)).collect();
        values[id] = value;
        self.ws.set_measured(&mut self.db).to(Arc::from(values));
        known
    }
}

/// E0302 for each measured field a fact file gives: a measure's value
/// comes from its log, never from the inventory.
pub(super) fn measured_fields_given(program: &Program, store: &crate::facts::FactStore) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for def in &program.measures {
        let Some((entity, field)) = def.field() else { continue };
        let Some(table) = store.tables.get(entity.index()) else { continue };
        let key_field = program.entity(entity).key;
        let given = table.rows.iter().enumerate().find(|(_, r)| {
            !matches!(r.values.get(field as usize), None | Some(Value::Absent))
                && !matches!(r.origin, crate::facts::Origin::Policy(_))
        });
        if let Some((i, row)) = given {
            let entity = &program.entity(entity).decl.name;
            let key = crate::facts::key_text(key_field, row, i as u32);
            out.push(
                Diagnostic::error(
                    Code::FactUnknownField,
                    format!("the fact `{key}` of `{entity}` gives `{}`, which is measured", def.decl.name),
                )
                .at_file(def.decl.name_span.file, def.decl.name_span.span, "computed from a log here")
                .help("a measure's value comes from its log: remove the column from the fact file (or rename the measure)"),
            );
        }
    }
    out
}

fn unmeasured(why: String) -> Value {
    Value::Unknown(Arc::new(Unknown::Unmeasured(Arc::from(why))))
}

impl Monitoring {
    /// The trace of one plan's values.
    fn measurement(&self, program: &Program, plan: &MeasurePlan, output: &MeasureOutput, as_of: Date) -> Measurement {
        let log = self.logs.iter().find(|l| l.record == plan.record);
        let result = plan.result();
        // In key order, as `MeasureOutput` gives them (`trace` searches them).
        let values: Vec<MeasuredValue> = output
            .values
            .iter()
            .map(|(key, v)| MeasuredValue {
                key: key.clone(),
                value: match &v.value {
                    Ok(n) => program.display(&typed(result, *n)),
                    Err(why) => why.clone(),
                },
                known: v.value.is_ok(),
                rows: v.rows,
            })
            .collect();
        Measurement {
            measure: plan.measure.clone(),
            entity: plan.entity.clone(),
            metric: plan.metric_text(),
            log: log.map(|l| l.location.clone()).unwrap_or_default(),
            files: log.map(|l| l.files.iter().map(|f| f.name.clone()).collect()).unwrap_or_default(),
            window: plan.window.as_ref().map(|w| {
                let (from, to) = w.days(as_of);
                MeasuredWindow { from: from.to_string(), to: to.to_string() }
            }),
            values,
        }
    }
}

/// A metric's result as a value of the measure's type.
fn typed(result: MetricResult, n: crate::num::Decimal) -> Value {
    match result {
        MetricResult::Int => Value::Int(rust_decimal::prelude::ToPrimitive::to_i64(&n.trunc()).unwrap_or(i64::MAX)),
        MetricResult::Number => Value::Number(n),
        MetricResult::Percent => Value::Percent(n),
    }
}

/// The columns of every record a plan reads, as the runner checks the
/// logs' schemas against them.
fn log_records(program: &Program, plans: &[MeasurePlan]) -> Vec<LogRecord> {
    let mut out: Vec<LogRecord> = Vec::new();
    for plan in plans {
        if out.iter().any(|r| r.name == plan.record) {
            continue;
        }
        let Some(def) = program.records.iter().find(|r| r.decl.name == plan.record) else { continue };
        let columns = def
            .fields
            .iter()
            .map(|f| LogColumn {
                name: f.name.clone(),
                kind: column_kind(program, f.ty.definite()),
                optional: f.ty.is_optional(),
            })
            .collect();
        out.push(LogRecord { name: plan.record.clone(), columns });
    }
    out
}

fn column_kind(program: &Program, ty: &Ty) -> ColumnKind {
    match ty {
        Ty::Bool => ColumnKind::Bool,
        Ty::Int => ColumnKind::Int,
        Ty::Number => ColumnKind::Number,
        Ty::Percent => ColumnKind::Percent,
        Ty::Text | Ty::Entity(_) => ColumnKind::Text,
        Ty::Date => ColumnKind::Date,
        Ty::Enum(id) => ColumnKind::Enum(program.enums[id.index()].variants.clone()),
        other => ColumnKind::Other(program.ty_name(other)),
    }
}
