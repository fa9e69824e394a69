#pragma once

#include "statuspage.h"

#include <QObject>

#include <functional>

namespace fleet {

// The incident vocabulary every status backend speaks. Statuspage's shape (an incident with a status, updates,
// affected components, metadata for the console's keys, a postmortem) is the one other status pages map onto; the
// core and the widgets use these names, and only an adapter knows whose API is behind them.
namespace status {
using Component = statuspage::Component;
using Incident = statuspage::Incident;
using IncidentUpdate = statuspage::IncidentUpdate;
using IncidentChange = statuspage::IncidentChange;
using Postmortem = statuspage::Postmortem;
using statuspage::componentStatuses;
using statuspage::impacts;
using statuspage::incidentStatuses;
using statuspage::inWords;
inline constexpr int kMaxName = statuspage::kMaxName;
inline constexpr int kMaxBody = statuspage::kMaxBody;
} // namespace status

// A public status page as the core uses it: read the incidents, open and update one with a single write each, find
// a create again after an unknown outcome, recognise an update already there, put and publish a postmortem. Writes
// are sent once by the adapter (never retried behind the caller's back); callbacks run on `context`'s thread, not at
// all if it is destroyed or the backend is. The session builds one from the profile's settings (forConfig) and
// shares it between the outbox and the current incident, so the page's rate limit is spent once. Model: qBittorrent's
// ResumeDataStorage with its two backends.
class StatusBackend : public QObject
{
    Q_OBJECT

public:
    template <typename T> using Callback = std::function<void(ApiResult<T>)>;

    using QObject::QObject;

    // The Statuspage adapter for `config`, or nullptr with the reason in `problem` when it is not usable.
    static StatusBackend *forConfig(const StatusPageConfig &config, QObject *parent, QString *problem = nullptr);

    virtual QString where() const = 0; // "https://status.example.com, page fleetdemo": where updates go, for a person
    virtual int maxBody() const = 0; // the longest update or postmortem the page takes, in characters

    virtual void components(QObject *context, Callback<QList<status::Component>> done) = 0;
    virtual void unresolved(QObject *context, Callback<QList<status::Incident>> done) = 0;
    virtual void incidents(const QString &search, int limit, QObject *context, Callback<QList<status::Incident>> done)
        = 0;
    virtual void incident(const QString &id, QObject *context, Callback<status::Incident> done) = 0;
    virtual void create(const status::IncidentChange &change, QObject *context, Callback<status::Incident> done) = 0;
    virtual void update(const QString &incidentId, const status::IncidentChange &change, QObject *context,
        Callback<status::Incident> done)
        = 0;
    // The incident a create of `change` first sent at `sentAtMs` made, if the page has it (an empty id if not).
    virtual void findCreated(
        const status::IncidentChange &change, qint64 sentAtMs, QObject *context, Callback<status::Incident> done)
        = 0;
    // Whether `incident` already shows the update `change` first sent at `sentAtMs`.
    virtual bool carries(
        const status::Incident &incident, const status::IncidentChange &change, qint64 sentAtMs) const = 0;
    virtual void putPostmortem(
        const QString &incidentId, const QString &draft, QObject *context, Callback<status::Postmortem> done)
        = 0;
    virtual void publishPostmortem(
        const QString &incidentId, bool notifySubscribers, QObject *context, Callback<status::Postmortem> done)
        = 0;
};

// Atlassian Statuspage (and fleet-sim's page, which speaks its API) behind StatusBackend.
class StatuspageBackend : public StatusBackend
{
    Q_OBJECT

public:
    explicit StatuspageBackend(const StatusPageConfig &config, QObject *parent = nullptr);

    const StatusPageConfig &config() const { return m_config; }

    QString where() const override;
    int maxBody() const override { return statuspage::kMaxBody; }
    void components(QObject *context, Callback<QList<status::Component>> done) override;
    void unresolved(QObject *context, Callback<QList<status::Incident>> done) override;
    void incidents(const QString &search, int limit, QObject *context, Callback<QList<status::Incident>> done) override;
    void incident(const QString &id, QObject *context, Callback<status::Incident> done) override;
    void create(const status::IncidentChange &change, QObject *context, Callback<status::Incident> done) override;
    void update(const QString &incidentId, const status::IncidentChange &change, QObject *context,
        Callback<status::Incident> done) override;
    void findCreated(const status::IncidentChange &change, qint64 sentAtMs, QObject *context,
        Callback<status::Incident> done) override;
    bool carries(
        const status::Incident &incident, const status::IncidentChange &change, qint64 sentAtMs) const override;
    void putPostmortem(
        const QString &incidentId, const QString &draft, QObject *context, Callback<status::Postmortem> done) override;
    void publishPostmortem(const QString &incidentId, bool notifySubscribers, QObject *context,
        Callback<status::Postmortem> done) override;

private:
    StatusPageConfig m_config;
    StatuspageClient *m_client;
};

} // namespace fleet
