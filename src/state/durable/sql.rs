//! The object's view of its SQLite database: one synchronous `exec`, so a transition that
//! makes several calls without an `await` between them cannot interleave with another
//! request to the same object (workerd commits such a run as one implicit transaction).

#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Text(String),
}

impl SqlValue {
    pub fn int(&self) -> i64 {
        match self {
            SqlValue::Int(i) => *i,
            SqlValue::Text(t) => t.parse().unwrap_or(0),
            SqlValue::Null => 0,
        }
    }

    pub fn text(&self) -> String {
        match self {
            SqlValue::Text(t) => t.clone(),
            SqlValue::Int(i) => i.to_string(),
            SqlValue::Null => String::new(),
        }
    }
}

impl From<&str> for SqlValue {
    fn from(s: &str) -> SqlValue {
        SqlValue::Text(s.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(s: String) -> SqlValue {
        SqlValue::Text(s)
    }
}

impl From<u64> for SqlValue {
    fn from(n: u64) -> SqlValue {
        SqlValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<i64> for SqlValue {
    fn from(n: i64) -> SqlValue {
        SqlValue::Int(n)
    }
}

pub type Row = Vec<SqlValue>;

pub trait Sql {
    /// Runs one statement with positional `?` parameters; returns its rows.
    fn exec(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, String>;
}
