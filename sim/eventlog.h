#pragma once

#include <QByteArray>

#include <deque>

namespace fleet::sim {

// The server's bounded buffer of recent events, each with a sequence number, for SSE resume (Last-Event-ID).
class EventLog
{
public:
    struct Event
    {
        qint64 id = 0;
        QByteArray type;
        QByteArray data; // one line of compact JSON
    };

    // Ids start after `firstId`. A server gives each of its lives a different, larger base (fleet-sim: its start
    // time in microseconds), so that an id from an earlier life can never be mistaken for one of this life.
    explicit EventLog(int capacity, qint64 firstId = 0);

    qint64 append(const QByteArray &type, QByteArray data);

    qint64 lastId() const { return m_lastId; }
    // Oldest id still held; lastId() + 1 when the buffer is empty.
    qint64 firstRetainedId() const;
    int size() const { return static_cast<int>(m_events.size()); }
    int capacity() const { return m_capacity; }
    qint64 totalAppended() const { return m_totalAppended; }

    // True when every event after `lastSeenId` is still held, so a client that saw `lastSeenId` can resume.
    bool canResumeAfter(qint64 lastSeenId) const;
    // Events with id > afterId, oldest first. Call only when canResumeAfter(afterId).
    std::deque<Event>::const_iterator after(qint64 afterId) const;
    std::deque<Event>::const_iterator end() const { return m_events.end(); }

    // Forgets every held event, as a server restart without persistence would; ids keep increasing.
    void loseAll();

private:
    std::deque<Event> m_events;
    int m_capacity;
    qint64 m_lastId = 0;
    qint64 m_lostUpTo = 0; // events up to this id were lost by loseAll()
    qint64 m_totalAppended = 0;
};

} // namespace fleet::sim
