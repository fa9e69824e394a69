#pragma once

#include <QByteArray>
#include <QStringView>

#include <vector>

namespace fleet {

// Streams compact JSON into a byte buffer. Used on hot paths (50,000-worker snapshots) where building a
// QJsonDocument first would double the work. The caller keeps begin/end calls balanced.
class JsonWriter
{
public:
    explicit JsonWriter(QByteArray *out);

    void beginObject();
    void endObject();
    void beginArray();
    void endArray();
    void key(const char *name);

    void value(QStringView text);
    void value(const char *latin1);
    void value(qint64 number);
    void value(int number) { value(static_cast<qint64>(number)); }
    void value(double number);
    void value(bool flag);
    void null();
    void timestamp(qint64 msecsSinceEpoch); // ISO 8601 UTC string, or null for 0

    // Emits already-encoded JSON (for example a cached object) as the next value.
    void raw(const QByteArray &json);

    template <typename T> void field(const char *name, const T &v)
    {
        key(name);
        value(v);
    }
    void nullableString(const char *name, QStringView text);

private:
    void separate();

    QByteArray *m_out;
    std::vector<bool> m_first; // one entry per open container: no element written yet
    bool m_afterKey = false;
};

} // namespace fleet
