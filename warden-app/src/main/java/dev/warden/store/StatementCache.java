package dev.warden.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * Prepared statements kept per connection, so the hot paths (claim, complete, ledger append) do
 * not parse the same SQL on every transaction. Not thread-safe: a connection is used by one
 * thread at a time.
 */
public final class StatementCache implements AutoCloseable {
    private static final int MAX = 256;

    private final Connection connection;
    private final Map<String, PreparedStatement> cache = new HashMap<>();

    public StatementCache(Connection connection) {
        this.connection = connection;
    }

    public Connection connection() {
        return connection;
    }

    /** A ready statement for {@code sql}, with parameters and batch cleared. Do not close it. */
    PreparedStatement prepare(String sql) throws SQLException {
        PreparedStatement ps = cache.get(sql);
        if (ps == null || ps.isClosed()) {
            if (cache.size() >= MAX) {
                close();
            }
            ps = connection.prepareStatement(sql);
            cache.put(sql, ps);
        } else {
            ps.clearParameters();
            ps.clearBatch();
        }
        return ps;
    }

    @Override
    public void close() {
        for (PreparedStatement ps : cache.values()) {
            try {
                ps.close();
            } catch (SQLException ignored) {
                // closing: nothing to do
            }
        }
        cache.clear();
    }
}
