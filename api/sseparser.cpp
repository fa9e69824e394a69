#include "sseparser.h"

#include <algorithm>

namespace fleet {

namespace {

constexpr QByteArrayView kBom("\xEF\xBB\xBF", 3);

} // namespace

void SseParser::reset()
{
    m_failed = false;
    m_line.clear();
    m_data.clear();
    m_type.clear();
    m_dataSeen = false;
    m_afterCR = false;
    m_atStart = true;
    m_bomCandidate.clear();
}

void SseParser::setLimits(qsizetype maxLineBytes, qsizetype maxEventBytes)
{
    m_maxLine = std::max<qsizetype>(16, maxLineBytes);
    m_maxEvent = std::max<qsizetype>(16, maxEventBytes);
}

void SseParser::feed(QByteArrayView bytes, Output *out)
{
    if (m_failed)
        return;
    if (m_atStart) {
        // The BOM may itself arrive split across chunks: hold bytes until it is proven present or absent.
        m_bomCandidate += QByteArray(bytes.data(), bytes.size());
        if (m_bomCandidate.size() < 3 && kBom.startsWith(m_bomCandidate))
            return;
        m_atStart = false;
        QByteArray held = m_bomCandidate;
        m_bomCandidate.clear();
        if (held.startsWith(kBom))
            held.remove(0, 3);
        feed(held, out);
        return;
    }
    qsizetype start = 0;
    const qsizetype n = bytes.size();
    qsizetype i = 0;
    if (m_afterCR && n > 0) {
        m_afterCR = false;
        if (bytes[0] == '\n')
            start = i = 1;
    }
    for (; i < n; ++i) {
        const char c = bytes[i];
        if (c != '\n' && c != '\r')
            continue;
        if (m_line.size() + (i - start) > m_maxLine) {
            m_failed = true;
            out->error = QStringLiteral("a line of the event stream is longer than %1 KB: not a Fleet API stream")
                             .arg(m_maxLine / 1024);
            return;
        }
        m_line.append(bytes.data() + start, i - start);
        line(m_line, out);
        m_line.clear();
        if (m_failed)
            return;
        if (c == '\r') {
            if (i + 1 < n) {
                if (bytes[i + 1] == '\n')
                    ++i;
            } else {
                m_afterCR = true;
            }
        }
        start = i + 1;
    }
    if (m_line.size() + (n - start) > m_maxLine) {
        m_failed = true;
        out->error = QStringLiteral("a line of the event stream is longer than %1 KB: not a Fleet API stream")
                         .arg(m_maxLine / 1024);
        return;
    }
    m_line.append(bytes.data() + start, n - start);
}

void SseParser::line(QByteArrayView text, Output *out)
{
    if (text.isEmpty()) {
        // Dispatch. An event with no data is not dispatched, but its fields are reset.
        if (m_dataSeen) {
            if (m_data.endsWith('\n'))
                m_data.chop(1);
            out->events.push_back({ m_type.isEmpty() ? QStringLiteral("message") : m_type, m_data, m_lastEventId });
        }
        m_data.clear();
        m_type.clear();
        m_dataSeen = false;
        return;
    }
    if (text.front() == ':') {
        ++out->comments;
        return;
    }
    const qsizetype colon = text.indexOf(':');
    QByteArrayView field = colon < 0 ? text : text.first(colon);
    QByteArrayView value = colon < 0 ? QByteArrayView() : text.sliced(colon + 1);
    if (value.startsWith(' '))
        value = value.sliced(1);
    if (field == "data") {
        if (m_data.size() + value.size() + 1 > m_maxEvent) {
            m_failed = true;
            out->error = QStringLiteral("an event of the stream is larger than %1 MB: not a Fleet API stream")
                             .arg(m_maxEvent / (1024 * 1024));
            return;
        }
        m_data.append(value.data(), value.size());
        m_data.append('\n');
        m_dataSeen = true;
    } else if (field == "event") {
        m_type = QString::fromUtf8(value);
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_lastEventId = QString::fromUtf8(value);
    } else if (field == "retry") {
        bool digits = !value.isEmpty();
        for (const char c : value)
            digits = digits && c >= '0' && c <= '9';
        if (digits && value.size() < 10)
            out->retryMs = value.toInt();
    }
    // Any other field is ignored, as the specification says.
}

} // namespace fleet
