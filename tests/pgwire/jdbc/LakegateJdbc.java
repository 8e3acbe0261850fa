// Drives lakegate's PostgreSQL port with the PostgreSQL JDBC driver, as DBeaver does:
// metadata, prepared statements and a large result fetched in batches. Prints KEY=value lines.
import java.sql.*;
import java.util.*;

public class LakegateJdbc {
    public static void main(String[] args) throws Exception {
        String url = args[0], user = args[1], password = args[2], mode = args[3];
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        try (Connection conn = DriverManager.getConnection(url, props)) {
            if (mode.equals("metadata")) metadata(conn);
            else if (mode.equals("prepared")) prepared(conn);
            else if (mode.equals("large")) large(conn, Long.parseLong(args[4]));
            else if (mode.equals("errors")) errors(conn);
        } catch (SQLException e) {
            System.out.println("ERROR=" + e.getSQLState() + " " + e.getMessage().split("\n")[0]);
        }
    }

    static void metadata(Connection conn) throws SQLException {
        DatabaseMetaData meta = conn.getMetaData();
        System.out.println("PRODUCT=" + meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion());
        List<String> schemas = new ArrayList<>();
        try (ResultSet rs = meta.getSchemas()) { while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM")); }
        System.out.println("SCHEMAS=" + String.join(",", schemas));
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = meta.getTables(null, null, "%", new String[] {"TABLE", "VIEW"})) {
            while (rs.next()) tables.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
        }
        System.out.println("TABLES=" + String.join(",", tables));
        List<String> columns = new ArrayList<>();
        try (ResultSet rs = meta.getColumns(null, "acme", "orders", "%")) {
            while (rs.next()) columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME") + ":" + rs.getInt("DATA_TYPE"));
        }
        System.out.println("COLUMNS=" + String.join(",", columns));
        try (ResultSet rs = meta.getPrimaryKeys(null, "acme", "orders")) {
            int n = 0; while (rs.next()) n++;
            System.out.println("PRIMARY_KEYS=" + n);
        }
    }

    static void prepared(Connection conn) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT id, region, amount, day FROM acme.orders WHERE id >= ? AND region = ? AND day <= ? ORDER BY id")) {
            ResultSetMetaData before = ps.getMetaData();  // described before it runs
            List<String> described = new ArrayList<>();
            for (int i = 1; i <= before.getColumnCount(); i++) described.add(before.getColumnName(i) + ":" + before.getColumnTypeName(i));
            System.out.println("DESCRIBED=" + String.join(",", described));
            System.out.println("PARAMETERS=" + ps.getParameterMetaData().getParameterCount());
            ps.setInt(1, 1);
            ps.setString(2, "EU");
            ps.setDate(3, java.sql.Date.valueOf("2026-01-31"));
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                List<String> types = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) types.add(md.getColumnName(i) + ":" + md.getColumnTypeName(i));
                System.out.println("TYPES=" + String.join(",", types));
                List<String> rows = new ArrayList<>();
                while (rs.next()) rows.add(rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getObject(3) + "|" + rs.getDate(4));
                System.out.println("ROWS=" + String.join(";", rows));
            }
            for (int i = 0; i < 6; i++) {  // past prepareThreshold: a named server-side statement
                ps.setInt(1, i); ps.setString(2, "EU"); ps.setDate(3, java.sql.Date.valueOf("2026-01-31"));
                try (ResultSet rs = ps.executeQuery()) { int n = 0; while (rs.next()) n++; if (i == 5) System.out.println("REPEATED=" + n); }
            }
        }
    }

    static void large(Connection conn, long rows) throws SQLException {
        conn.setAutoCommit(false);  // the driver fetches in batches only inside a transaction
        try (Statement st = conn.createStatement()) {
            st.setFetchSize(10000);
            long n = 0, sum = 0;
            try (ResultSet rs = st.executeQuery("SELECT range AS n FROM range(" + rows + ")")) {
                while (rs.next()) { n++; sum += rs.getLong(1); }
            }
            System.out.println("LARGE=" + n + " " + sum);
        }
        conn.commit();
    }

    static void errors(Connection conn) throws SQLException {
        try (PreparedStatement foreign = conn.prepareStatement("SELECT * FROM globex.orders")) {
            foreign.getMetaData();
        } catch (SQLException e) { System.out.println("DESCRIBE_UNKNOWN=" + e.getSQLState()); }
        try (Statement st = conn.createStatement()) {
            try { st.executeQuery("SELECT * FROM globex.orders"); } catch (SQLException e) { System.out.println("UNKNOWN=" + e.getSQLState()); }
            try { st.executeUpdate("DELETE FROM acme.orders"); } catch (SQLException e) { System.out.println("WRITE=" + e.getSQLState()); }
            try (ResultSet rs = st.executeQuery("SELECT 1")) { rs.next(); System.out.println("AFTER=" + rs.getInt(1)); }
        }
    }
}
