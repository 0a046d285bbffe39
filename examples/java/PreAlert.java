import org.medaudit.Engine;
import org.medaudit.MedauditException;

/**
 * The pre-alert call (事前提醒) from Java: builds an engine of the bundled sample pack, checks one
 * outpatient prescription shaped like the national 3101 request, and prints the 3101-shaped
 * response. See README.md in this directory for how to run it.
 */
public final class PreAlert {
    static final String REQUEST =
        "{\"data\": {\"trig_scen\": \"2\", \"task_id\": \"HIS-20260315-000123\", \"patient_dtos\": [{\"patn_id\":" +
        " \"P4401000000001\", \"patn_name\": \"张某\", \"gend\": \"2\", \"brdy\": \"1968-04-12\", \"insutype\": \"310\"" +
        ", \"fsi_encounter_dtos\": [{\"mdtrt_id\": \"MZ20260315000123\", \"med_type\": \"11\", \"medins_id\": \"" +
        "H44010600001\", \"medins_lv\": \"01\", \"adm_date\": \"2026-03-15 09:02:00\", \"fsi_diagnose_dtos\": " +
        "[{\"dise_codg\": \"N18.400\", \"dise_name\": \"慢性肾脏病4期\", \"maindise_flag\": \"1\"}], \"fsi_order_dtos\"" +
        ": [{\"rx_id\": \"RX1-1\", \"rxno\": \"RX1\", \"hilist_code\": \"XG04CBA088A001010101234\", \"hilist_nam" +
        "e\": \"爱普列特片\", \"cnt\": 2, \"pric\": 38.5, \"sumamt\": 77.0, \"drord_begn_date\": \"2026-03-15 09:20:" +
        "00\", \"drord_dept_codg\": \"A03\"}, {\"rx_id\": \"RX1-2\", \"rxno\": \"RX1\", \"hilist_code\": \"ZA04CAE0" +
        "023010100000\", \"hilist_name\": \"儿童清肺口服液\", \"cnt\": 1, \"pric\": 26.0, \"sumamt\": 26.0, \"drord_be" +
        "gn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"}, {\"rx_id\": \"RX1-3\", \"rxno\": \"RX" +
        "1\", \"hilist_code\": \"XA10BAE055A001010101234\", \"hilist_name\": \"二甲双胍片\", \"cnt\": 3, \"pric\": 12" +
        ".0, \"sumamt\": 36.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"}, {" +
        "\"rx_id\": \"RX1-4\", \"rxno\": \"RX1\", \"hilist_code\": \"XA04ADA285B001010101234\", \"hilist_name\": " +
        "\"阿瑞匹坦注射液\", \"cnt\": 1, \"pric\": 180.0, \"sumamt\": 180.0, \"drord_begn_date\": \"2026-03-15 09:20:" +
        "00\", \"drord_dept_codg\": \"A03\"}, {\"rx_id\": \"RX1-5\", \"rxno\": \"RX1\", \"hilist_code\": \"XC08CAA0" +
        "01A001010101234\", \"hilist_name\": \"氨氯地平片\", \"cnt\": 1, \"pric\": 15.0, \"sumamt\": 15.0, \"drord_b" +
        "egn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"}, {\"rx_id\": \"RX1-6\", \"rxno\": \"R" +
        "X1\", \"hilist_code\": \"T001700233\", \"hilist_name\": \"阿胶\", \"cnt\": 10, \"pric\": 6.0, \"sumamt\": 6" +
        "0.0, \"drord_begn_date\": \"2026-03-15 09:20:00\", \"drord_dept_codg\": \"A03\"}, {\"rx_id\": \"RX1-7" +
        "\", \"rxno\": \"RX1\", \"hilist_code\": \"XN02BEA011A001010101234\", \"hilist_name\": \"对乙酰氨基酚片\", \"cnt" +
        "\": 1, \"pric\": 8.0, \"sumamt\": 8.0, \"drord_begn_date\": \"2026-03-15 09:21:00\", \"drord_dept_co" +
        "dg\": \"A03\"}]}]}]}}";

    public static void main(String[] args) {
        System.out.println("libmedaudit " + Engine.version());
        try (Engine engine = new Engine(Engine.samplePackJson())) {
            String response = engine.checkJson(REQUEST);
            System.out.println(response);
            // Errors are exceptions carrying the C status code, the error class and the message.
            try {
                engine.checkJson("{\"data\": {\"trig_scen\": \"2\", \"patient_dtos\": 7}}");
            } catch (MedauditException e) {
                System.out.println("bad request -> status " + e.status() + " [" + e.kind() + "] " + e.getMessage());
            }
        }
    }
}
