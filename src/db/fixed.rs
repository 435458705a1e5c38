//! Keeping the hot paths' statements cheap: writes that stay prepared on
//! each connection ([`fixed_update!`]), and queries run on the backend's
//! own connection ([`on_backend!`]).
//!
//! diesel keeps a statement prepared only when it can tell from the query's
//! type that the SQL text never changes. It never can for its `UPDATE` DSL
//! (a changeset may skip columns), so every `UPDATE` is sent unnamed and
//! PostgreSQL parses and plans it on every call. For the busiest ones that
//! cost showed: the same booking transaction ran at 1780/s prepared and
//! 1000/s unprepared through pgbench. [`fixed_update!`] writes such a
//! statement out once, with a fixed text and a static query id, which
//! diesel prepares once per connection and reuses.
//!
//! (`INSERT`s get the same by `#[diesel(treat_none_as_default_value =
//! false)]` on their `Insertable`: an absent value is then bound as `NULL`
//! instead of changing the text to `DEFAULT`.)

/// Declares a statement type with a fixed SQL text, its parameters bound
/// in order where the text has a `?` (written out as `$n` on PostgreSQL by
/// diesel's query builder). The text holds no other `?`, and one per
/// parameter: a mismatch fails the statement on both databases, which the
/// API tests run.
///
/// With `-> SqlTypes` after the text, the statement's `RETURNING` clause
/// yields rows of those SQL types, read with `get_result`; without it, it
/// is run with `execute`.
macro_rules! fixed_update {
    (
        $(#[$doc:meta])*
        $name:ident { $($field:ident: $ty:ty as $sql_type:ty),+ $(,)? }
        = $sql:literal -> $returning:ty
    ) => {
        $crate::db::fixed_update! {
            $(#[$doc])*
            $name { $($field: $ty as $sql_type),+ } = $sql
        }

        impl diesel::query_builder::Query for $name<'_> {
            type SqlType = $returning;
        }
    };
    (
        $(#[$doc:meta])*
        $name:ident { $($field:ident: $ty:ty as $sql_type:ty),+ $(,)? }
        = $sql:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<'a> {
            $(pub $field: &'a $ty,)+
        }

        /// Static: the text never changes, so the type names the statement.
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = $name<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<DB> diesel::query_builder::QueryFragment<DB> for $name<'_>
        where
            DB: diesel::backend::Backend
                $(+ diesel::sql_types::HasSqlType<$sql_type>)+,
            $($ty: diesel::serialize::ToSql<$sql_type, DB>,)+
        {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
            ) -> diesel::QueryResult<()> {
                let mut parts = $sql.split('?');
                out.push_sql(parts.next().unwrap_or_default());
                $(
                    out.push_bind_param::<$sql_type, $ty>(self.$field)?;
                    out.push_sql(parts.next().unwrap_or_default());
                )+
                Ok(())
            }
        }

        impl<Conn> diesel::query_dsl::RunQueryDsl<Conn> for $name<'_> {}
    };
}

pub(crate) use fixed_update;

/// Runs `$body` with `$c` bound to the backend's own connection
/// (`&mut PgConnection` or `&mut SqliteConnection`); the body is compiled
/// once for each.
///
/// Through the `MultiConnection` wrapper every execution rebuilds the
/// statement's SQL text, even for a statement that is prepared and found
/// by its type; on the booking's path that was about 9 % of the server's
/// CPU. Queries on the hot paths go through here; the rest need not.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

pub(crate) use on_backend;
