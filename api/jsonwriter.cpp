#include "jsonwriter.h"

#include "isotime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fleet {

JsonWriter::JsonWriter(QByteArray *out)
    : m_out(out)
{
}

void JsonWriter::separate()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (!m_first.empty()) {
        if (!m_first.back())
            m_out->append(',');
        m_first.back() = false;
    }
}

void JsonWriter::beginObject()
{
    separate();
    m_out->append('{');
    m_first.push_back(true);
}

void JsonWriter::endObject()
{
    m_out->append('}');
    m_first.pop_back();
}

void JsonWriter::beginArray()
{
    separate();
    m_out->append('[');
    m_first.push_back(true);
}

void JsonWriter::endArray()
{
    m_out->append(']');
    m_first.pop_back();
}

void JsonWriter::key(const char *name)
{
    separate();
    m_out->append('"');
    m_out->append(name);
    m_out->append("\":");
    m_afterKey = true;
}

void JsonWriter::value(QStringView text)
{
    separate();
    m_out->append('"');
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        switch (u) {
        case u'"':
            m_out->append("\\\"");
            break;
        case u'\\':
            m_out->append("\\\\");
            break;
        case u'\n':
            m_out->append("\\n");
            break;
        case u'\r':
            m_out->append("\\r");
            break;
        case u'\t':
            m_out->append("\\t");
            break;
        default:
            if (u < 0x20 || (u >= 0xd800 && u <= 0xdfff) || u == 0x2028 || u == 0x2029) {
                // Control characters and surrogate halves are escaped so the output is valid whatever the input.
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(u));
                m_out->append(buf);
            } else if (u < 0x80) {
                m_out->append(static_cast<char>(u));
            } else if (u < 0x800) {
                m_out->append(static_cast<char>(0xc0 | (u >> 6)));
                m_out->append(static_cast<char>(0x80 | (u & 0x3f)));
            } else {
                m_out->append(static_cast<char>(0xe0 | (u >> 12)));
                m_out->append(static_cast<char>(0x80 | ((u >> 6) & 0x3f)));
                m_out->append(static_cast<char>(0x80 | (u & 0x3f)));
            }
        }
    }
    m_out->append('"');
}

void JsonWriter::value(const char *latin1)
{
    value(QString::fromLatin1(latin1));
}

void JsonWriter::value(qint64 number)
{
    separate();
    m_out->append(QByteArray::number(number));
}

void JsonWriter::value(double number)
{
    separate();
    if (!std::isfinite(number)) {
        m_out->append("null");
        return;
    }
    char buf[32];
    // Four significant decimals is enough for ratios and milliseconds and keeps snapshots small.
    const int n = std::snprintf(buf, sizeof buf, "%.4f", number);
    if (n < 0 || n >= int(sizeof buf)) {
        // Too large to print with four decimals in 32 characters (an absurd or hostile value: the fuzzer found that
        // this read past the buffer): its shortest exact form, which always fits ("-1.7976931348623157e+308").
        const int e = std::snprintf(buf, sizeof buf, "%.17g", number);
        m_out->append(buf, std::clamp(e, 0, int(sizeof buf) - 1));
        return;
    }
    int end = n;
    while (end > 1 && buf[end - 1] == '0')
        --end;
    if (end > 1 && buf[end - 1] == '.')
        --end;
    m_out->append(buf, end);
}

void JsonWriter::value(bool flag)
{
    separate();
    m_out->append(flag ? "true" : "false");
}

void JsonWriter::null()
{
    separate();
    m_out->append("null");
}

void JsonWriter::timestamp(qint64 msecsSinceEpoch)
{
    if (msecsSinceEpoch == 0) {
        null();
        return;
    }
    separate();
    m_out->append('"');
    appendIsoUtc(m_out, msecsSinceEpoch);
    m_out->append('"');
}

void JsonWriter::raw(const QByteArray &json)
{
    separate();
    m_out->append(json);
}

void JsonWriter::nullableString(const char *name, QStringView text)
{
    key(name);
    if (text.isEmpty())
        null();
    else
        value(text);
}

} // namespace fleet
