#pragma once

#include "result.h"

#include "accesscontrol.h"
#include "faultinjector.h"
#include "simulation.h"
#include "statuspagesim.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QHttpServerRequest>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrlQuery>

#include <functional>
#include <memory>
#include <vector>

class QHttpServer;
class QHttpServerResponder;
class QTcpSocket;

namespace fleet::sim {

class HttpExchange;

struct ServerOptions
{
    double speed = 1.0; // simulated seconds per real second; 0 pauses (use POST /v1/sim/advance)
    int heartbeatMs = 15000; // SSE heartbeat comment interval
    int tickMs = 100;
    int maxBodyBytes = 64 * 1024;
    qint64 maxStreamBacklogBytes = 16 * 1024 * 1024; // a stream this far behind is closed; the client resumes
    QString tlsCertificateFile; // PEM; with tlsKeyFile, serve HTTPS instead of HTTP
    QString tlsKeyFile;
    QString statusPageKey = QStringLiteral("demo-statuspage-key"); // the API key of /statuspage/v1
};

// Serves the Fleet API v1 (resources/api/fleet-api.yaml) over a Simulation with Qt HttpServer, streams events
// as Server-Sent Events, and drives the simulated clock. Lives in one thread; move it to a QThread to embed.
class FleetSimServer : public QObject
{
    Q_OBJECT

public:
    struct Call;
    struct Reply;

    FleetSimServer(
        std::unique_ptr<Simulation> simulation, AccessControl access, ServerOptions options, QObject *parent = nullptr);
    ~FleetSimServer() override;

    // Starts listening; the port it listens on, or why it cannot.
    Result<quint16> listen(const QHostAddress &address, quint16 port);
    void close(); // stops listening and drops every stream, as a crashed server would
    quint16 port() const { return m_port; }

    Simulation &simulation() { return *m_sim; }
    StatusPageSim &statusPage() { return *m_statusPage; }
    double speed() const { return m_options.speed; }
    void setSpeed(double speed);
    int streamCount() const;
    qint64 eventsWritten() const { return m_eventsWritten; }
    qint64 requestsServed() const { return m_requests; }

    void cutStreams(bool reset);
    void flushStreams();

Q_SIGNALS:
    void stepped(qint64 simulatedTime);

private:
    struct Route;
    struct Stream;

    void handle(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void send(HttpExchange &exchange, const Reply &reply);
    void openStream(const Call &call, std::unique_ptr<HttpExchange> exchange);
    void writeToStream(Stream &stream, const QByteArray &chunk);
    void tick();
    void heartbeat();

    Reply getMe(const Call &call);
    Reply getRegions(const Call &call);
    Reply getRegion(const Call &call);
    Reply getRegionHealth(const Call &call);
    Reply getWorkers(const Call &call);
    Reply getWorker(const Call &call);
    Reply getSnapshot(const Call &call);
    Reply postProvision(const Call &call);
    Reply postDrainRegion(const Call &call);
    Reply postResumeRegion(const Call &call);
    Reply postDrainWorker(const Call &call);
    Reply getOperations(const Call &call);
    Reply getOperation(const Call &call);
    Reply postCancelOperation(const Call &call);
    Reply getAudit(const Call &call);
    Reply getMetrics(const Call &call);
    Reply getSimStatus(const Call &call);
    Reply postSimAdvance(const Call &call);
    Reply postSimSpeed(const Call &call);
    Reply postSimConditions(const Call &call);
    Reply getSimFaults(const Call &call);
    Reply postSimFault(const Call &call);
    Reply deleteSimFaults(const Call &call);

    Reply actionReply(const Call &call, const ActionResult &result, const QString &action);
    Reply runAction(const Call &call, const QString &action,
        const std::function<ActionResult(const ActionRequest &, const QJsonObject &)> &act);
    std::optional<Reply> parseAction(const Call &call, ActionRequest *request, QJsonObject *body);

    std::unique_ptr<Simulation> m_sim;
    AccessControl m_access;
    ServerOptions m_options;
    FaultInjector m_faults;
    std::unique_ptr<StatusPageSim> m_statusPage;
    QHttpServer *m_http = nullptr;
    std::vector<Route> m_routes;
    std::vector<std::unique_ptr<Stream>> m_streams;
    QTimer m_tickTimer;
    QTimer m_heartbeatTimer;
    QElapsedTimer m_clock;
    qint64 m_lastTickMs = 0;
    double m_pendingSeconds = 0;
    quint16 m_port = 0;
    qint64 m_eventsWritten = 0;
    qint64 m_requests = 0;
};

} // namespace fleet::sim
