#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

// Test fixture: a private D-Bus session bus (dbus-daemon in a temporary folder, no service directories, so nothing is
// started on demand: the services on it are the ones the test starts). Stops the daemon when destroyed.
class PrivateSessionBus
{
public:
    PrivateSessionBus() = default;
    ~PrivateSessionBus();
    PrivateSessionBus(const PrivateSessionBus &) = delete;
    PrivateSessionBus &operator=(const PrivateSessionBus &) = delete;

    // Starts the daemon; false with `error` set (dbus-daemon missing, not answering).
    bool start(QString *error);
    QByteArray address() const { return m_address; } // "unix:path=...,guid=..."

private:
    QTemporaryDir m_dir;
    QProcess m_daemon;
    QByteArray m_address;
};
