use diesel::prelude::*;

use crate::db::models::{User, UserId};
use crate::db::schema::users;
use crate::db::Conn;

pub fn insert(conn: &mut Conn, user: &User) -> QueryResult<()> {
    crate::db::native!(conn, |nc| {
        diesel::insert_into(users::table)
            .values(user)
            .execute(nc)
            .map(|_| ())
    })
}

pub fn by_email(conn: &mut Conn, email: &str) -> QueryResult<Option<User>> {
    crate::db::native!(conn, |nc| {
        users::table
            .filter(users::email.eq(email.to_lowercase()))
            .select(User::as_select())
            .first(nc)
            .optional()
    })
}

pub fn by_id(conn: &mut Conn, id: &UserId) -> QueryResult<Option<User>> {
    crate::db::native!(conn, |nc| {
        users::table
            .find(id)
            .select(User::as_select())
            .first(nc)
            .optional()
    })
}

pub fn set_password_hash(conn: &mut Conn, id: &UserId, hash: &str) -> QueryResult<usize> {
    crate::db::native!(conn, |nc| {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(nc)
    })
}

pub fn count(conn: &mut Conn) -> QueryResult<i64> {
    crate::db::native!(conn, |nc| { users::table.count().get_result(nc) })
}

/// Whether the person turned password sign-in off (passkeys only).
pub fn password_off(conn: &mut Conn, user: &UserId) -> QueryResult<bool> {
    use crate::db::schema::password_off as po;
    diesel::select(diesel::dsl::exists(po::table.filter(po::user_id.eq(user)))).get_result(conn)
}

/// Turns password sign-in off (`Some(at)`) or back on (`None`); true if
/// that changed anything.
pub fn set_password_off(conn: &mut Conn, user: &UserId, off: Option<i64>) -> QueryResult<bool> {
    use crate::db::schema::password_off as po;
    let was = password_off(conn, user)?;
    match off {
        Some(at) if !was => diesel::insert_into(po::table)
            .values((po::user_id.eq(user), po::since.eq(at)))
            .execute(conn)
            .map(|n| n == 1),
        None if was => diesel::delete(po::table.filter(po::user_id.eq(user)))
            .execute(conn)
            .map(|n| n == 1),
        _ => Ok(false),
    }
}
