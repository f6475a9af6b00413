"""Email over SMTP (stdlib ``smtplib``, run in a worker thread so the engine never waits).

STARTTLS and login are optional; with STARTTLS the server's certificate is verified against
the system's trust store, or ``ca_file`` (a private CA, a self-signed test server).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from typing import ClassVar

from pydantic import Field

from phasegate.notify.base import Message, Notifier, NotifierError, Receipt


class EmailNotifier(Notifier):
    kind: ClassVar[str] = "email"
    secret_options: ClassVar[tuple[str, ...]] = ("password",)

    host: str
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = Field(False, description="upgrade the connection with STARTTLS first")
    ca_file: str | None = Field(None, description="trust this CA bundle (PEM) for STARTTLS")
    sender: str = Field(alias="from", description="the From address")
    to: list[str] = Field(min_length=1, description="recipients")
    username: str | None = Field(None, description="log in with this user (after STARTTLS)")
    password: str | None = Field(None, description="use ${VAR}")
    subject_prefix: str = "[phasegate]"

    def describe(self) -> str:
        return f"email via {self.host}:{self.port} to {', '.join(self.to)}"

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        mail["Subject"] = f"{self.subject_prefix} {message.title}".strip()
        mail["X-Phasegate-Event"] = message.event
        mail["X-Phasegate-Run"] = message.run_id
        lines = [message.summary, "", f"run:      {message.run_id}", f"plan:     {message.plan}"]
        lines += [f"event:    {message.event}", f"severity: {message.severity}"]
        if message.link:
            lines.append(f"link:     {message.link}")
        for key, value in message.details.items():
            if value not in (None, "", [], {}):
                lines.append(f"{key}: {value}")
        mail.set_content("\n".join(lines) + "\n")
        return mail

    def _deliver(self, mail: EmailMessage, timeout: float) -> Receipt:
        where = f"{self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=timeout) as smtp:
                if self.starttls:
                    context = ssl.create_default_context(cafile=self.ca_file)
                    smtp.starttls(context=context)
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifierError(
                f"{where}: login refused ({exc.smtp_code})", retryable=False
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifierError(
                f"{where}: every recipient refused: {', '.join(exc.recipients)}", retryable=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
            )
            raise NotifierError(
                f"{where}: SMTP {exc.smtp_code} {text}".strip(), retryable=exc.smtp_code >= 400
            ) from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise NotifierError(f"{where}: {type(exc).__name__}: {exc}") from None
        if refused:
            return Receipt(detail=f"accepted, but refused for {', '.join(refused)}")
        return Receipt(detail="accepted")

    async def send(self, message: Message, timeout: float) -> Receipt:
        mail = self.compose(message)
        return await asyncio.to_thread(self._deliver, mail, timeout)
