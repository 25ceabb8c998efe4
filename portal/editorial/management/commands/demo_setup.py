"""`portal demo_setup`: a demo editor for `make run`, with a keypair on this machine.

Creates `demo-editor-gnupg/` in the data directory holding the demo editor's
private key (this stands in for the editor's own laptop: the server's keyring
receives only the public key), registers the editor and prints the login,
password and TOTP secret. Refuses to run unless PORTAL_DEBUG is on. Running it
again reuses the key and prints fresh credentials.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.editors.keys import KeyAlreadyRegistered, add_key, approve_key
from portal.editors.models import Editor
from portal.submissions.models import EditorKey

USERNAME = "demo-editor"


def make_demo_key(home: Path) -> str:
    """Create (once) a Curve25519 keypair in `home`; return the armored public key."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
            "--passphrase", ""]
    listed = subprocess.run([*base, "--list-secret-keys", "--with-colons"],
                            capture_output=True, text=True, check=False)
    if "sec:" not in listed.stdout:
        subprocess.run([*base, "--quick-gen-key", "Penname demo editor <demo@penname.invalid>",
                        "ed25519", "cert", "2y"], capture_output=True, check=True)
        fpr = next(line.split(":")[9] for line in subprocess.run(
            [*base, "--list-keys", "--with-colons"], capture_output=True, text=True, check=True
        ).stdout.splitlines() if line.startswith("fpr:"))
        subprocess.run([*base, "--quick-add-key", fpr, "cv25519", "encr", "2y"],
                       capture_output=True, check=True)
    exported = subprocess.run([*base, "--armor", "--export"], capture_output=True, text=True,
                              check=True)
    return exported.stdout


class Command(BaseCommand):
    help = "Create the demo editor (development only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_setup is for development (PORTAL_DEBUG=True) only")
        home = Path(settings.DATA_DIR) / "demo-editor-gnupg"
        armored = make_demo_key(home)
        user, _ = get_user_model().objects.get_or_create(username=USERNAME)
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save()
        Editor.objects.update_or_create(user=user, defaults={"role": Editor.Role.MANAGING})
        try:
            key = add_key(user, armored, proposed_by=None)
        except KeyAlreadyRegistered as exc:  # demo_setup run again with the same key
            key = EditorKey.objects.get(fingerprint=exc.fingerprint, user=user)
        if key.pending:
            # Development only: the demo editor is alone, so the shell approves its key.
            key = approve_key(key, None, via="install")
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
        secret = __import__("base64").b32encode(device.bin_key).decode()
        self.stdout.write(self.style.SUCCESS("Demo editor ready"))
        self.stdout.write(f"  username:     {USERNAME}")
        self.stdout.write(f"  password:     {password}")
        self.stdout.write(f"  TOTP secret:  {secret}")
        self.stdout.write(f"  enrolment:    {device.config_url}")
        self.stdout.write(f"  key:          {key.spaced_fingerprint}")
        self.stdout.write(f"  private key:  {home}  (decrypt with: gpg --homedir {home} -d FILE)")
        self.stdout.write("Authors: open http://127.0.0.1:8000/ (JavaScript may stay off).")
