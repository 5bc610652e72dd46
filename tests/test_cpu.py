"""tfgm/_cpu.py: the first processor's fields of /proc/cpuinfo (cpu_flags is tested in tests/training)."""

from tfgm._cpu import cpu_fields


def test_fields_of_the_first_processor_only(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2\n\n"
                    "processor\t: 1\ncpu family\t: 26\nbugs\t\t: spectre\nflags\t\t: fpu avx512f\n")
    fields = cpu_fields(str(info))
    assert (fields["cpu family"], fields["model"], fields["model name"], fields["flags"]) == (
        "25", "1", "AMD EPYC", "fpu avx2")
    assert "bugs" not in fields  # the second processor's lines are not read
    assert cpu_fields(str(tmp_path / "missing")) == {}
