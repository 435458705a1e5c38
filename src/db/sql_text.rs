//! Types stored as SQL text on both backends: the typed ids of
//! `crate::domain::ids`, and enums such as a reservation's status. Each
//! gets `ToSql`/`FromSql` for PostgreSQL, SQLite and the multi-backend
//! connection, which hands the value to whichever backend is open.

/// Maps each type to SQL text: written as `as_str()`, read with `FromStr`.
/// The type itself derives `diesel::AsExpression` and `diesel::FromSqlRow`
/// with `#[diesel(sql_type = diesel::sql_types::Text)]`.
macro_rules! sql_text {
    ($($ty:ty),+ $(,)?) => {$(
        $crate::db::sql_text!(@backend $ty, diesel::pg::Pg);
        $crate::db::sql_text!(@backend $ty, diesel::sqlite::Sqlite);

        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn from_sql(
                value: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                value.from_sql::<Self, diesel::sql_types::Text>()
            }
        }
    )+};
    (@backend $ty:ty, $backend:ty) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $backend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $backend>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, $backend>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $backend> for $ty {
            fn from_sql(
                value: <$backend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let text =
                    <String as diesel::deserialize::FromSql<diesel::sql_types::Text, $backend>>::from_sql(value)?;
                text.parse::<$ty>().map_err(|e| {
                    format!("{text:?} is not a {}: {e}", stringify!($ty)).into()
                })
            }
        }
    };
}
pub(crate) use sql_text;

use crate::domain::Afm;
use crate::domain::ids::{
    AccessLogId, AppId, ClientId, ConsentId, DepartmentId, DocumentId, MessageId, MunicipalityId,
    ReservationId, ServiceId, SessionId, SlotId, StudioId, SubmissionId,
};

sql_text!(
    MunicipalityId,
    DepartmentId,
    ServiceId,
    DocumentId,
    SlotId,
    ReservationId,
    SessionId,
    MessageId,
    StudioId,
    SubmissionId,
    AppId,
    ClientId,
    ConsentId,
    AccessLogId,
    Afm
);
