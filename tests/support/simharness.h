#pragma once

#include "connectionprofiles.h"
#include "fleetsimserver.h"

#include <QByteArray>
#include <QJsonDocument>
#include <QList>
#include <QNetworkAccessManager>
#include <QPair>
#include <QUrl>

#include <memory>

// Test fixture: a fleet-sim server embedded in the test process, listening on a free loopback port, with the
// default tokens (view-secret, op-secret, admin-secret) and the clock paused unless a speed is given.
class SimHarness
{
public:
    struct Response
    {
        int status = 0; // 0 when the request failed below HTTP
        QByteArray body;
        QList<QPair<QByteArray, QByteArray>> headers;
        QString networkError;

        QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
        QByteArray header(const QByteArray &name) const;
    };

    struct Options
    {
        QString scenario = QStringLiteral("upstream-packet-loss");
        quint64 seed = 7;
        int workers = 0;
        double speed = 0;
        int heartbeatMs = 15000;
        double rateLimit = 0;
        int eventBuffer = 65536;
        int historySeconds = 86400;
        QString tlsCertificateFile; // serve HTTPS
        QString tlsKeyFile;
    };

    SimHarness();
    explicit SimHarness(const Options &options);

    fleet::sim::FleetSimServer &server() { return *m_server; }
    fleet::sim::Simulation &sim() { return m_server->simulation(); }
    QUrl url(const QString &pathAndQuery) const;

    Response get(const QString &path, const QByteArray &token = "view-secret",
        const QList<QPair<QByteArray, QByteArray>> &headers = {});
    Response post(const QString &path, const QByteArray &body, const QByteArray &token = "op-secret",
        const QList<QPair<QByteArray, QByteArray>> &headers = {});
    Response send(const QByteArray &verb, const QString &path, const QByteArray &body, const QByteArray &token,
        const QList<QPair<QByteArray, QByteArray>> &headers);
    Response admin(const QString &path, const QByteArray &json) { return post(path, json, "admin-secret"); }

    QNetworkAccessManager &network() { return m_nam; }
    QUrl baseUrl() const { return url(QString()); }
    quint16 port() const { return m_port; }

    // As a crash would: stop listening and drop every connection. startAgain() listens on the same port.
    void stopServing() { m_server->close(); }
    void startAgain();

    // Runs the paused clock forward by whole seconds (POST /v1/sim/advance, 300 s a request so that the event
    // stream keeps up); fails the test if the simulator refuses.
    void advance(int seconds);
    // A connection profile for this simulator.
    fleet::ConnectionProfile profile(const QString &name = QStringLiteral("test"), bool production = false) const;

private:
    std::unique_ptr<fleet::sim::FleetSimServer> m_server;
    QNetworkAccessManager m_nam;
    quint16 m_port = 0;
    QString m_scheme = QStringLiteral("http");
};
