from core.errors import DomainError


class InvalidPhoneNumber(DomainError):
    code = "invalid_phone"
    detail = "Enter a valid phone number in international format, e.g. +14155550123."
