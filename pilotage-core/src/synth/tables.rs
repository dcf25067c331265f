//! Turning simulated rows into Arrow batches that match the source schemas exactly.
//!
//! Columns are produced by name, in the schema's order, so a column the generator cannot fill
//! (or fills with the wrong type, or with nulls where none are allowed) is a
//! [`SynthError::Schema`] naming the table and column rather than a silent mismatch.

use std::fmt::Write as _;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};

use crate::domain::{Code, ExitMotive, StructureKind};
use crate::source::{SourceTable, StructureSource};

use super::params::ROME;
use super::records::{
    AfRow, CandidatRow, CandidatureRow, ContratRow, EmiRow, PassRow, ProlongationRow, SalarieRow,
    SuspensionRow, YearRows,
};
use super::world::{Organisation, Structure, World};
use super::{BATCH_ROWS, SynthError};
use crate::calendar::days_from_civil;

type Sink<'a> = dyn FnMut(SourceTable, RecordBatch) -> Result<(), SynthError> + 'a;

fn strs<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(values))
}

fn owned<T>(rows: &[T], mut write: impl FnMut(&T, &mut StringBuilder) -> bool) -> ArrayRef {
    let mut builder = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
    for row in rows {
        if write(row, &mut builder) {
            builder.append_value("");
        } else {
            builder.append_null();
        }
    }
    Arc::new(builder.finish())
}

fn i64s(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(Int64Array::from_iter(values))
}

fn i32s(values: impl Iterator<Item = Option<i32>>) -> ArrayRef {
    Arc::new(Int32Array::from_iter(values))
}

fn f64s(values: impl Iterator<Item = Option<f64>>) -> ArrayRef {
    Arc::new(Float64Array::from_iter(values))
}

fn bools(values: impl Iterator<Item = Option<bool>>) -> ArrayRef {
    Arc::new(BooleanArray::from_iter(values))
}

fn dates(values: impl Iterator<Item = Option<i32>>) -> ArrayRef {
    Arc::new(Date32Array::from_iter(values))
}

/// Writes the 64 lowercase hex digits of a hash.
fn hex_into(hash: &[u8; 32], out: &mut StringBuilder) {
    let mut buf = [0u8; 64];
    // Both lengths are fixed (32 bytes → 64 digits): encoding cannot fail.
    if hex::encode_to_slice(hash, &mut buf).is_ok()
        && let Ok(text) = std::str::from_utf8(&buf)
    {
        let _ = out.write_str(text);
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A version-4-shaped UUID whose last group is the sequence number (so it is unique).
fn uuid_into(seed: u64, id: i64, out: &mut StringBuilder) {
    let a = splitmix(seed ^ (id as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let b = splitmix(a);
    let _ = write!(
        out,
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b & 0x3fff),
        (id as u64) & 0xffff_ffff_ffff
    );
}

/// Builds the record batches of every table from simulated rows.
pub(crate) struct Builder<'w> {
    world: &'w World,
    seed: u64,
    end: i32,
}

impl<'w> Builder<'w> {
    /// A builder for one run.
    pub(crate) fn new(world: &'w World, seed: u64, last_year: i32) -> Self {
        Self {
            world,
            seed,
            end: days_from_civil(last_year, 12, 31),
        }
    }

    fn commune(&self, commune: u32) -> &'w str {
        &self.world.geo.communes[commune as usize].code
    }

    fn dept_of_commune(&self, commune: u32) -> &'w str {
        &self.world.geo.depts[usize::from(self.world.geo.dept_of(commune))].code
    }

    fn region_of_commune(&self, commune: u32) -> &'w str {
        &self.world.geo.depts[usize::from(self.world.geo.dept_of(commune))].region
    }

    fn organisation(&self, id: i64) -> Option<&'w Organisation> {
        usize::try_from(id - 1)
            .ok()
            .and_then(|i| self.world.organisations.get(i))
    }

    fn structure(&self, index: usize) -> &'w Structure {
        &self.world.structures[index]
    }

    /// Emits the tables drawn once per run.
    pub(crate) fn static_tables(&self, sink: &mut Sink<'_>) -> Result<(), SynthError> {
        let indices: Vec<usize> = (0..self.world.structures.len()).collect();
        chunked(SourceTable::Structures, &indices, sink, |rows| {
            self.structures(rows)
        })?;
        let orgs: Vec<&Organisation> = self.world.organisations.iter().collect();
        chunked(SourceTable::Organisations, &orgs, sink, |rows| {
            self.organisations(rows)
        })?;
        let fiches: Vec<&super::world::Fiche> = self.world.fiches.iter().collect();
        chunked(SourceTable::FichesDePoste, &fiches, sink, |rows| {
            self.fiches(rows)
        })?;
        sink(SourceTable::MotifsSortie, motifs()?)
    }

    /// Emits the rows of one simulated year.
    pub(crate) fn year_tables(
        &self,
        rows: &YearRows,
        sink: &mut Sink<'_>,
    ) -> Result<(), SynthError> {
        chunked(SourceTable::Candidats, &rows.candidats, sink, |r| {
            self.candidats(r)
        })?;
        chunked(SourceTable::Candidatures, &rows.candidatures, sink, |r| {
            self.candidatures(r)
        })?;
        chunked(SourceTable::PassIae, &rows.pass, sink, |r| self.pass(r))?;
        chunked(
            SourceTable::PassIaeSuspensions,
            &rows.suspensions,
            sink,
            suspensions,
        )?;
        chunked(
            SourceTable::PassIaeProlongations,
            &rows.prolongations,
            sink,
            prolongations,
        )?;
        chunked(SourceTable::AnnexesFinancieres, &rows.afs, sink, |r| {
            self.annexes(r)
        })?;
        chunked(SourceTable::Salaries, &rows.salaries, sink, |r| {
            self.salaries(r)
        })?;
        chunked(SourceTable::Contrats, &rows.contrats, sink, contrats)?;
        chunked(SourceTable::EtatsMensuels, &rows.emis, sink, etats_mensuels)
    }

    fn structures(&self, rows: &[usize]) -> Result<RecordBatch, SynthError> {
        let ss: Vec<&Structure> = rows.iter().map(|&i| self.structure(i)).collect();
        assemble(SourceTable::Structures, |name| {
            Some(match name {
                "id" => i64s(ss.iter().map(|s| Some(s.id))),
                "asp_id" => i64s(ss.iter().map(|s| s.asp_id)),
                "siret" => strs(ss.iter().map(|s| Some(s.siret.as_str()))),
                "kind" => strs(ss.iter().map(|s| Some(s.kind.code()))),
                "source" => strs(ss.iter().map(|s| Some(structure_source(s).code()))),
                "parent_id" => i64s(ss.iter().map(|s| s.parent.map(|p| self.structure(p).id))),
                "name" => strs(ss.iter().map(|s| Some(s.name.as_str()))),
                "commune" => strs(ss.iter().map(|s| Some(self.commune(s.commune)))),
                "departement" => strs(ss.iter().map(|s| Some(self.dept_of_commune(s.commune)))),
                "region" => strs(ss.iter().map(|s| Some(self.region_of_commune(s.commune)))),
                "created_at" => dates(ss.iter().map(|s| Some(s.created_on))),
                _ => return None,
            })
        })
    }

    fn organisations(&self, rows: &[&Organisation]) -> Result<RecordBatch, SynthError> {
        assemble(SourceTable::Organisations, |name| {
            Some(match name {
                "id" => i64s(rows.iter().map(|o| Some(o.id))),
                "siret" => strs(rows.iter().map(|o| Some(o.siret.as_str()))),
                "name" => strs(rows.iter().map(|o| Some(o.name.as_str()))),
                "kind" => strs(rows.iter().map(|o| Some(o.kind.code()))),
                "habilitee" => bools(rows.iter().map(|o| Some(o.authorized))),
                "brsa" => bools(rows.iter().map(|o| Some(o.brsa))),
                "commune" => strs(rows.iter().map(|o| Some(self.commune(o.commune)))),
                "departement" => strs(rows.iter().map(|o| Some(self.dept_of_commune(o.commune)))),
                "region" => strs(rows.iter().map(|o| Some(self.region_of_commune(o.commune)))),
                "created_at" => dates(rows.iter().map(|o| Some(o.created_on))),
                _ => return None,
            })
        })
    }

    fn fiches(&self, rows: &[&super::world::Fiche]) -> Result<RecordBatch, SynthError> {
        assemble(SourceTable::FichesDePoste, |name| {
            Some(match name {
                "id" => i64s(rows.iter().map(|f| Some(f.id))),
                "structure_id" => i64s(rows.iter().map(|f| Some(f.structure_id))),
                "rome" => strs(rows.iter().map(|f| Some(ROME[f.rome].0))),
                "appellation" | "title" => strs(rows.iter().map(|f| Some(ROME[f.rome].1))),
                "created_at" => dates(rows.iter().map(|f| Some(f.created_on))),
                "updated_at" => dates(
                    rows.iter()
                        .map(|f| Some((f.created_on + f.updated_after).min(self.end))),
                ),
                "is_open" => bools(rows.iter().map(|f| Some(f.open))),
                _ => return None,
            })
        })
    }

    fn candidats(&self, rows: &[CandidatRow]) -> Result<RecordBatch, SynthError> {
        assemble(SourceTable::Candidats, |name| {
            Some(match name {
                "hash_nir" => owned(rows, |c, b| {
                    hex_into(&c.person.hash, b);
                    true
                }),
                "sex" => strs(rows.iter().map(|c| Some(c.person.sex.code()))),
                "birth_year" => i32s(rows.iter().map(|c| Some(c.person.birth_year))),
                "commune" => strs(rows.iter().map(|c| Some(self.commune(c.person.commune)))),
                "departement" => strs(
                    rows.iter()
                        .map(|c| Some(self.dept_of_commune(c.person.commune))),
                ),
                "qpv" => bools(rows.iter().map(|c| Some(c.person.qpv))),
                "created_at" => dates(rows.iter().map(|c| Some(c.created_on))),
                _ => return None,
            })
        })
    }

    fn candidatures(&self, rows: &[CandidatureRow]) -> Result<RecordBatch, SynthError> {
        assemble(SourceTable::Candidatures, |name| {
            Some(match name {
                "id" => owned(rows, |c, b| {
                    uuid_into(self.seed, c.id, b);
                    true
                }),
                "hash_nir" => owned(rows, |c, b| {
                    hex_into(&c.hash, b);
                    true
                }),
                "structure_id" => i64s(rows.iter().map(|c| Some(c.structure_id))),
                "origine" => strs(rows.iter().map(|c| Some(c.origine.code()))),
                "sender_organisation_id" => i64s(rows.iter().map(|c| c.sender_organisation_id)),
                "sender_prescriber_kind" => strs(rows.iter().map(|c| {
                    c.sender_organisation_id
                        .and_then(|id| self.organisation(id))
                        .map(|o| o.kind.code())
                })),
                "sender_structure_id" => i64s(rows.iter().map(|c| c.sender_structure_id)),
                "state" => strs(rows.iter().map(|c| Some(c.state.code()))),
                "created_at" => dates(rows.iter().map(|c| Some(c.created_on))),
                "first_looked_at" => dates(rows.iter().map(|c| c.first_look_on)),
                "processed_at" => dates(rows.iter().map(|c| c.processed_on)),
                "refusal_reason" => strs(rows.iter().map(|c| c.refusal_reason.map(|r| r.code()))),
                "creation_path" => strs(rows.iter().map(|c| Some(c.creation_path.code()))),
                "hired_at" => dates(rows.iter().map(|c| c.hiring_start_on)),
                "eligibility_by_employer" => {
                    bools(rows.iter().map(|c| Some(c.diagnosis_by_employer)))
                }
                "fiche_de_poste_id" => i64s(rows.iter().map(|c| c.fiche_id)),
                _ => return None,
            })
        })
    }

    fn pass(&self, rows: &[PassRow]) -> Result<RecordBatch, SynthError> {
        assemble(SourceTable::PassIae, |name| {
            Some(match name {
                "id" => i64s(rows.iter().map(|p| Some(p.id))),
                "number" => strs(rows.iter().map(|p| Some(p.number.as_str()))),
                "hash_nir" => owned(rows, |p, b| {
                    hex_into(&p.hash, b);
                    true
                }),
                "structure_id" => i64s(rows.iter().map(|p| Some(p.structure_id))),
                "start_date" => dates(rows.iter().map(|p| Some(p.start))),
                "end_date" => dates(rows.iter().map(|p| Some(p.end))),
                "issued_at" => dates(rows.iter().map(|p| Some(p.created_on))),
                "candidature_id" => owned(rows, |p, b| match p.candidature_id {
                    Some(id) => {
                        uuid_into(self.seed, id, b);
                        true
                    }
                    None => false,
                }),
                _ => return None,
            })
        })
    }

    fn annexes(&self, rows: &[AfRow]) -> Result<RecordBatch, SynthError> {
        assemble(SourceTable::AnnexesFinancieres, |name| {
            Some(match name {
                "id" => i64s(rows.iter().map(|a| Some(a.id))),
                "number" => strs(rows.iter().map(|a| Some(a.number.as_str()))),
                "convention_number" => {
                    strs(rows.iter().map(|a| Some(a.convention_number.as_str())))
                }
                "structure_asp_id" => i64s(rows.iter().map(|a| Some(a.structure_asp_id))),
                "measure" => strs(rows.iter().map(|a| Some(a.measure.code()))),
                "state" => strs(rows.iter().map(|a| Some(a.state.code()))),
                "start_date" => dates(rows.iter().map(|a| Some(a.start))),
                "end_date" => dates(rows.iter().map(|a| Some(a.end))),
                "year" => i32s(rows.iter().map(|a| Some(a.year))),
                "departement" => strs(
                    rows.iter()
                        .map(|a| Some(self.world.geo.depts[usize::from(a.dept)].code.as_str())),
                ),
                "etp_conventionnes_mensuels" => f64s(rows.iter().map(|a| Some(a.etp_mensuels))),
                "montant_total" => f64s(rows.iter().map(|a| Some(a.amount_total))),
                "montant_cofinance_departement" => {
                    f64s(rows.iter().map(|a| Some(a.amount_departement)))
                }
                "montant_unitaire_annuel" => f64s(rows.iter().map(|a| {
                    (a.etp_mensuels > 0.0)
                        .then(|| (a.amount_total / a.etp_mensuels * 100.0).round() / 100.0)
                })),
                "heures_annuelles_etp" => f64s(rows.iter().map(|a| a.annual_hours)),
                _ => return None,
            })
        })
    }

    fn salaries(&self, rows: &[SalarieRow]) -> Result<RecordBatch, SynthError> {
        assemble(SourceTable::Salaries, |name| {
            Some(match name {
                "id" => i64s(rows.iter().map(|s| Some(s.id))),
                "hash_nir" => owned(rows, |s, b| {
                    hex_into(&s.person.hash, b);
                    true
                }),
                "sex" => strs(rows.iter().map(|s| Some(s.person.sex.code()))),
                "birth_year" => i32s(rows.iter().map(|s| Some(s.person.birth_year))),
                "commune" => strs(rows.iter().map(|s| Some(self.commune(s.person.commune)))),
                "departement" => strs(
                    rows.iter()
                        .map(|s| Some(self.dept_of_commune(s.person.commune))),
                ),
                "qpv" => bools(rows.iter().map(|s| Some(s.person.qpv))),
                _ => return None,
            })
        })
    }
}

fn structure_source(s: &Structure) -> StructureSource {
    if s.parent.is_some() {
        return StructureSource::UserCreated;
    }
    match s.kind {
        StructureKind::Geiq => StructureSource::Geiq,
        StructureKind::Ea | StructureKind::Eatt => StructureSource::EaEatt,
        StructureKind::Opcs => StructureSource::StaffCreated,
        _ => StructureSource::Asp,
    }
}

fn suspensions(rows: &[SuspensionRow]) -> Result<RecordBatch, SynthError> {
    assemble(SourceTable::PassIaeSuspensions, |name| {
        Some(match name {
            "id" => i64s(rows.iter().map(|s| Some(s.id))),
            "pass_iae_id" => i64s(rows.iter().map(|s| Some(s.pass_id))),
            "start_date" => dates(rows.iter().map(|s| Some(s.start))),
            "end_date" => dates(rows.iter().map(|s| Some(s.end))),
            "reason" => strs(rows.iter().map(|s| Some(s.reason.code()))),
            "structure_id" => i64s(rows.iter().map(|s| Some(s.structure_id))),
            "created_at" => dates(rows.iter().map(|s| Some(s.created_on))),
            _ => return None,
        })
    })
}

fn prolongations(rows: &[ProlongationRow]) -> Result<RecordBatch, SynthError> {
    assemble(SourceTable::PassIaeProlongations, |name| {
        Some(match name {
            "id" => i64s(rows.iter().map(|p| Some(p.id))),
            "pass_iae_id" => i64s(rows.iter().map(|p| Some(p.pass_id))),
            "start_date" => dates(rows.iter().map(|p| Some(p.start))),
            "end_date" => dates(rows.iter().map(|p| Some(p.end))),
            "reason" => strs(rows.iter().map(|p| Some(p.reason.code()))),
            "structure_id" => i64s(rows.iter().map(|p| Some(p.structure_id))),
            "organisation_id" | "validated_by_organisation_id" => {
                i64s(rows.iter().map(|p| p.organisation_id))
            }
            "created_at" => dates(rows.iter().map(|p| Some(p.created_on))),
            _ => return None,
        })
    })
}

fn contrats(rows: &[ContratRow]) -> Result<RecordBatch, SynthError> {
    assemble(SourceTable::Contrats, |name| {
        Some(match name {
            "id" => i64s(rows.iter().map(|c| Some(c.id))),
            "salarie_id" => i64s(rows.iter().map(|c| Some(c.salarie_id))),
            "structure_asp_id" => i64s(rows.iter().map(|c| Some(c.structure_asp_id))),
            "measure" => strs(rows.iter().map(|c| Some(c.measure.code()))),
            "parent_contrat_id" => i64s(rows.iter().map(|c| c.parent_id)),
            "start_date" => dates(rows.iter().map(|c| Some(c.start))),
            "end_date" => dates(rows.iter().map(|c| Some(c.planned_end))),
            "exit_date" => dates(rows.iter().map(|c| c.exit_on)),
            "exit_motive" => strs(rows.iter().map(|c| c.exit_motive.map(|m| m.code()))),
            "weekly_hours" => f64s(rows.iter().map(|c| Some(c.weekly_hours))),
            "rsa" => strs(rows.iter().map(|c| Some(c.situation.rsa.code()))),
            "ass" => bools(rows.iter().map(|c| Some(c.situation.ass))),
            "aah" => bools(rows.iter().map(|c| Some(c.situation.aah))),
            "rqth" => bools(rows.iter().map(|c| Some(c.situation.rqth))),
            "qpv" => bools(rows.iter().map(|c| Some(c.situation.qpv))),
            "zrr" => bools(rows.iter().map(|c| Some(c.situation.zrr))),
            "education_level" => strs(rows.iter().map(|c| Some(c.situation.education.code()))),
            "unemployment_duration" => {
                strs(rows.iter().map(|c| Some(c.situation.unemployment.code())))
            }
            _ => return None,
        })
    })
}

fn etats_mensuels(rows: &[EmiRow]) -> Result<RecordBatch, SynthError> {
    assemble(SourceTable::EtatsMensuels, |name| {
        Some(match name {
            "id" => i64s(rows.iter().map(|e| Some(e.id))),
            "salarie_id" => i64s(rows.iter().map(|e| Some(e.salarie_id))),
            "af_id" => i64s(rows.iter().map(|e| Some(e.af_id))),
            "contrat_id" => i64s(rows.iter().map(|e| Some(e.contrat_id))),
            "year" => i32s(rows.iter().map(|e| Some(e.year))),
            "month" => i32s(rows.iter().map(|e| Some(e.month as i32))),
            "hours_worked" => f64s(rows.iter().map(|e| Some(e.hours))),
            "state" => strs(rows.iter().map(|e| Some(e.state.code()))),
            _ => return None,
        })
    })
}

fn motifs() -> Result<RecordBatch, SynthError> {
    let all = ExitMotive::ALL;
    assemble(SourceTable::MotifsSortie, |name| {
        Some(match name {
            "code" => strs(all.iter().map(|m| Some(m.code()))),
            "label" => strs(all.iter().map(|m| Some(m.label()))),
            "category" => strs(all.iter().map(|m| Some(m.category().code()))),
            _ => return None,
        })
    })
}

/// Builds a batch column by column in the schema's order, checking types and nullability.
fn assemble(
    table: SourceTable,
    mut column: impl FnMut(&str) -> Option<ArrayRef>,
) -> Result<RecordBatch, SynthError> {
    let schema = table.schema();
    let mut arrays = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let array = column(field.name()).ok_or_else(|| SynthError::Schema {
            table: table.name(),
            column: field.name().clone(),
            reason: "the generator has no values for this column".to_owned(),
        })?;
        if array.data_type() != field.data_type() {
            return Err(SynthError::Schema {
                table: table.name(),
                column: field.name().clone(),
                reason: format!(
                    "generated {} but the schema says {}",
                    array.data_type(),
                    field.data_type()
                ),
            });
        }
        if !field.is_nullable() && array.null_count() > 0 {
            return Err(SynthError::Schema {
                table: table.name(),
                column: field.name().clone(),
                reason: format!("{} nulls in a non-nullable column", array.null_count()),
            });
        }
        arrays.push(array);
    }
    RecordBatch::try_new(schema, arrays).map_err(|source| SynthError::Arrow {
        table: table.name(),
        source,
    })
}

/// Hands `rows` to `sink` in batches of at most [`BATCH_ROWS`] rows.
fn chunked<T>(
    table: SourceTable,
    rows: &[T],
    sink: &mut Sink<'_>,
    build: impl Fn(&[T]) -> Result<RecordBatch, SynthError>,
) -> Result<(), SynthError> {
    for chunk in rows.chunks(BATCH_ROWS) {
        sink(table, build(chunk)?)?;
    }
    Ok(())
}
