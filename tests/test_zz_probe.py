import io, pytest
from app.followup.attendance import import_attendance, AttendanceFileError
from tests.builders import register_person

@pytest.mark.parametrize("when", ["12/31/9999 11:59:59 PM", "9999-12-31T23:59:59", "Dec 31, 9999 11:59 PM", "01/01/0001 00:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00", "12/31/9999 11:59:59 PM GMT-12:00"])
def test_probe(app, event, when):
    register_person(event, "ada@example.com")
    data = f"email,join time,leave time\nada@example.com,{when},{when}\n".encode()
    try:
        print(import_attendance(event, io.BytesIO(data)))
    except AttendanceFileError as e:
        print("refused", e.message)
