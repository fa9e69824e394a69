#include "eventlog.h"

#include <algorithm>

namespace fleet::sim {

EventLog::EventLog(int capacity, qint64 firstId)
    : m_capacity(std::max(capacity, 16))
    , m_lastId(firstId)
    , m_lostUpTo(firstId)
{
}

qint64 EventLog::append(const QByteArray &type, QByteArray data)
{
    m_events.push_back({ ++m_lastId, type, std::move(data) });
    ++m_totalAppended;
    if (static_cast<int>(m_events.size()) > m_capacity)
        m_events.pop_front();
    return m_lastId;
}

qint64 EventLog::firstRetainedId() const
{
    return m_events.empty() ? m_lastId + 1 : m_events.front().id;
}

bool EventLog::canResumeAfter(qint64 lastSeenId) const
{
    if (lastSeenId < 0 || lastSeenId > m_lastId)
        return false; // an id this server never issued: the client talks to a different server life
    if (lastSeenId < m_lostUpTo)
        return false;
    return lastSeenId + 1 >= firstRetainedId();
}

std::deque<EventLog::Event>::const_iterator EventLog::after(qint64 afterId) const
{
    return std::upper_bound(
        m_events.begin(), m_events.end(), afterId, [](qint64 id, const Event &e) { return id < e.id; });
}

void EventLog::loseAll()
{
    m_events.clear();
    m_lostUpTo = m_lastId;
}

} // namespace fleet::sim
