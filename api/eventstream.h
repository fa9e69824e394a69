#pragma once

#include "apierror.h"
#include "backoff.h"
#include "clientconfig.h"
#include "fleettypes.h"
#include "sseparser.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <optional>

#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace fleet {

class WireDecoder;

// GET /v1/events, kept open: parses the stream, decodes events, and reconnects by itself with backoff (full jitter,
// the server's retry: as base), resuming with Last-Event-ID. A stream silent for twice the server's heartbeat
// interval counts as dead. A resync event, a gap in event ids or an undecodable event asks for a snapshot refetch
// (resyncRequired) instead of guessing. 401 and 403 stop it: retrying cannot fix a token.
class EventStream : public QObject
{
    Q_OBJECT

public:
    explicit EventStream(ClientConfig config, QObject *parent = nullptr);
    ~EventStream() override;

    void start(qint64 afterEventId); // resume after this id (a snapshot's sequence)
    void stop();
    bool isRunning() const { return m_running; }
    bool isConnected() const { return m_connected && m_announced; }
    qint64 lastEventId() const { return m_lastId; }
    int heartbeatMs() const { return m_heartbeatMs; }
    int attempt() const { return m_backoff.attempt(); }

Q_SIGNALS:
    void connected();
    void eventReceived(const fleet::FleetEvent &event);
    // The connection dropped or failed; it retries in `retryInMs` (attempt `attempt`), unless fatal.
    void disconnected(const fleet::ApiError &error, int attempt, int retryInMs, bool fatal);
    void resyncRequired(const QString &reason);
    void alive(); // any bytes arrived, heartbeats included

private:
    void connectNow();
    void onReadyRead();
    void drainPending();
    void dropPending(); // undelivered events and unparsed bytes: the server sends them again after Last-Event-ID
    bool parseSome(); // parses the next chunk of m_unparsed into m_pending; false when nothing is left
    void onFinished();
    void onWatchdog();
    void abandon(const ApiError &error); // drops the connection now and reconnects with backoff
    void fail(const ApiError &error, bool fatal);
    void scheduleReconnect(int minDelayMs);

    ClientConfig m_config;
    QNetworkAccessManager *m_nam;
    QPointer<QNetworkReply> m_reply;
    SseParser m_parser;
    std::unique_ptr<WireDecoder> m_decoder;
    Backoff m_backoff;
    QTimer m_watchdog;
    QTimer m_retryTimer;
    qint64 m_lastId = 0;
    int m_heartbeatMs;
    bool m_running = false;
    bool m_connected = false; // an event stream answered
    bool m_announced = false; // ...and its first bytes were not a resync: connected() was emitted
    bool m_resyncing = false;
    bool m_sawLife = false; // this connection delivered a complete event or heartbeat
    std::optional<ApiError> m_parseError; // the parser gave up on this connection
    std::deque<SseParser::Event> m_pending; // parsed, not yet decoded and delivered
    QByteArray m_unparsed; // received, not yet parsed (from m_unparsedAt on)
    qsizetype m_unparsedAt = 0;
    bool m_drainQueued = false; // a drainPending() is queued
};

} // namespace fleet
