//! Typed access to the Arrow columns of a source table, shared by ingestion (building batches
//! from text) and the store (writing batches, reading them back).

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};
use pilotage_core::source::{ColumnSpec, DataType, SourceTable};

/// A builder for one column of a source table, of the column's logical type.
pub enum ColumnBuilder {
    /// Text.
    Utf8(StringBuilder),
    /// 32-bit integers.
    Int32(Int32Builder),
    /// 64-bit integers.
    Int64(Int64Builder),
    /// Floats.
    Float64(Float64Builder),
    /// Flags.
    Boolean(BooleanBuilder),
    /// Dates, days since 1970-01-01.
    Date32(Date32Builder),
}

impl ColumnBuilder {
    /// An empty builder for `spec`, with room for `capacity` rows.
    pub fn new(spec: &ColumnSpec, capacity: usize) -> ColumnBuilder {
        match spec.data_type {
            DataType::Utf8 => {
                ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            DataType::Int32 => ColumnBuilder::Int32(Int32Builder::with_capacity(capacity)),
            DataType::Int64 => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            DataType::Float64 => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            DataType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            DataType::Date32 => ColumnBuilder::Date32(Date32Builder::with_capacity(capacity)),
        }
    }

    /// Builders for every column of `table`, in column order.
    pub fn for_table(table: SourceTable, capacity: usize) -> Vec<ColumnBuilder> {
        table
            .columns()
            .iter()
            .map(|c| ColumnBuilder::new(c, capacity))
            .collect()
    }

    /// Appends a null.
    pub fn append_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Boolean(b) => b.append_null(),
            ColumnBuilder::Date32(b) => b.append_null(),
        }
    }

    /// The finished column.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Date32(b) => Arc::new(b.finish()),
        }
    }
}

/// A column of a batch, downcast to its concrete array type once.
#[derive(Clone, Copy)]
pub enum ColumnView<'a> {
    /// Text.
    Utf8(&'a StringArray),
    /// 32-bit integers.
    Int32(&'a Int32Array),
    /// 64-bit integers.
    Int64(&'a Int64Array),
    /// Floats.
    Float64(&'a Float64Array),
    /// Flags.
    Boolean(&'a BooleanArray),
    /// Dates, days since 1970-01-01.
    Date32(&'a Date32Array),
}

impl<'a> ColumnView<'a> {
    /// Views `array` as the type of `spec`, or `None` if its Arrow type differs.
    pub fn new(spec: &ColumnSpec, array: &'a ArrayRef) -> Option<ColumnView<'a>> {
        let any = array.as_any();
        Some(match spec.data_type {
            DataType::Utf8 => ColumnView::Utf8(any.downcast_ref()?),
            DataType::Int32 => ColumnView::Int32(any.downcast_ref()?),
            DataType::Int64 => ColumnView::Int64(any.downcast_ref()?),
            DataType::Float64 => ColumnView::Float64(any.downcast_ref()?),
            DataType::Boolean => ColumnView::Boolean(any.downcast_ref()?),
            DataType::Date32 => ColumnView::Date32(any.downcast_ref()?),
        })
    }

    /// Views every column of a batch of `table` (which must have the table's schema).
    pub fn of_batch(table: SourceTable, batch: &'a RecordBatch) -> Option<Vec<ColumnView<'a>>> {
        table
            .columns()
            .iter()
            .zip(batch.columns())
            .map(|(spec, array)| ColumnView::new(spec, array))
            .collect()
    }

    /// True if row `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            ColumnView::Utf8(a) => a.is_null(i),
            ColumnView::Int32(a) => a.is_null(i),
            ColumnView::Int64(a) => a.is_null(i),
            ColumnView::Float64(a) => a.is_null(i),
            ColumnView::Boolean(a) => a.is_null(i),
            ColumnView::Date32(a) => a.is_null(i),
        }
    }

    /// Row `i` rendered as text (`""` for null), for error messages.
    pub fn display(&self, i: usize) -> String {
        if self.is_null(i) {
            return String::new();
        }
        match self {
            ColumnView::Utf8(a) => a.value(i).to_owned(),
            ColumnView::Int32(a) => a.value(i).to_string(),
            ColumnView::Int64(a) => a.value(i).to_string(),
            ColumnView::Float64(a) => a.value(i).to_string(),
            ColumnView::Boolean(a) => a.value(i).to_string(),
            ColumnView::Date32(a) => super::date::format_iso_date(a.value(i)),
        }
    }
}
