package dev.warden.store;

import java.sql.Connection;
import java.sql.SQLException;

/** Transaction handling shared by the JDBC stores. */
public final class JdbcStoreSupport {
    private JdbcStoreSupport() {}

    /**
     * Runs {@code work} between explicit {@code begin} and COMMIT statements on a connection in
     * auto-commit mode (SQLite: the driver would otherwise keep a transaction, and with it a lock,
     * open between units of work).
     */
    public static <T> T inExplicitTransaction(StatementCache statements, Dialect dialect, String begin, Store.Work<T> work) {
        Connection c = statements.connection();
        exec(c, begin);
        try {
            T result = work.run(new JdbcTx(statements, dialect));
            exec(c, "COMMIT");
            return result;
        } catch (RuntimeException | Error e) {
            explicitRollback(c, e);
            throw e;
        } catch (Exception e) {
            explicitRollback(c, e);
            throw new StoreException(e);
        }
    }

    private static void exec(Connection c, String sql) {
        try (java.sql.Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    private static void explicitRollback(Connection c, Throwable cause) {
        try (java.sql.Statement s = c.createStatement()) {
            s.execute("ROLLBACK");
        } catch (SQLException r) {
            // no transaction open (the failure was in BEGIN or COMMIT already ended it)
            if (!String.valueOf(r.getMessage()).contains("no transaction")) {
                cause.addSuppressed(r);
            }
        }
    }

    public static void migrate(Connection c, Dialect dialect) throws SQLException {
        Migrations.apply(c, dialect);
    }
}
