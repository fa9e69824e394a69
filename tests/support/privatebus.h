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

// Test fixture: the desktop keychain for real: gnome-keyring's Secret Service on a private session bus, its keyrings in
// a temporary home, unlocked with a test password. start() points DBUS_SESSION_BUS_ADDRESS of this process at the
// bus (QtKeychain then talks to it as on a desktop); the destructor stops the daemon and unsets the variable.
class PrivateKeyring
{
public:
    PrivateKeyring() = default;
    ~PrivateKeyring();
    PrivateKeyring(const PrivateKeyring &) = delete;
    PrivateKeyring &operator=(const PrivateKeyring &) = delete;

    bool start(QString *error); // false with `error` set (a daemon missing or not starting)

private:
    QTemporaryDir m_home;
    PrivateSessionBus m_bus;
    QProcess m_keyring;
};
