#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <optional>
#include <vector>

namespace fleet {

// Splits a text/event-stream into events following the WHATWG EventSource parsing rules: CR, LF and CRLF line ends,
// a leading UTF-8 BOM, comments, multi-line data, id (ignored when it contains NUL), event, retry (digits only).
// Pure: fed bytes as they arrive, cut anywhere, it gives the same events as the whole stream at once.
class SseParser
{
public:
    struct Event
    {
        QString type; // "message" when the stream gave none
        QByteArray data; // data lines joined with "\n"
        QString lastEventId; // the stream's last event id when this event was dispatched
    };

    struct Output
    {
        std::vector<Event> events;
        int comments = 0; // comment lines seen (heartbeats): proof of life
        std::optional<int> retryMs; // the last valid retry field
        QString error; // set once a limit is exceeded; the parser then ignores input until reset()
    };

    // A line or an event larger than these is not a Fleet API stream (its largest event is a few KB): the parser
    // stops with an error instead of growing without bound. The defaults are far above anything legitimate.
    static constexpr qsizetype kDefaultMaxLineBytes = 1024 * 1024;
    static constexpr qsizetype kDefaultMaxEventBytes = 4 * 1024 * 1024;
    void setLimits(qsizetype maxLineBytes, qsizetype maxEventBytes);

    // Parses `bytes`, appending what it completes to `out`.
    void feed(QByteArrayView bytes, Output *out);
    // Forget partial input, as when a new connection starts; the last event id is kept (it is what resumes).
    void reset();

    const QString &lastEventId() const { return m_lastEventId; }
    void setLastEventId(const QString &id) { m_lastEventId = id; }

private:
    void line(QByteArrayView text, Output *out);

    QByteArray m_line;
    QByteArray m_data;
    QString m_type;
    QString m_lastEventId;
    bool m_dataSeen = false;
    bool m_afterCR = false; // the previous chunk ended in CR: a leading LF belongs to it
    bool m_atStart = true; // BOM check pending
    QByteArray m_bomCandidate;
    qsizetype m_maxLine = kDefaultMaxLineBytes;
    qsizetype m_maxEvent = kDefaultMaxEventBytes;
    bool m_failed = false;
};

} // namespace fleet
