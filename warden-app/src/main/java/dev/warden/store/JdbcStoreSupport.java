package dev.warden.store;

import java.sql.Connection;
import java.sql.SQLException;

/** Transaction handling shared by the JDBC stores. */
public final class JdbcStoreSupport {
    private JdbcStoreSupport() {}

    public static <T> T inTransaction(Connection c, Dialect dialect, Store.Work<T> work) {
        try {
            T result = work.run(new JdbcTx(c, dialect));
            c.commit();
            return result;
        } catch (RuntimeException e) {
            rollback(c, e);
            throw e;
        } catch (Exception e) {
            rollback(c, e);
            throw new StoreException(e);
        }
    }

    private static void rollback(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException r) {
            cause.addSuppressed(r);
        }
    }

    public static void migrate(Connection c, Dialect dialect) throws SQLException {
        Migrations.apply(c, dialect);
    }
}
